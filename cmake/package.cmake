# The Debian package: `cpack -G DEB` in the build directory (or
# `cmake --build build --target package`) makes mgteam_<version>_<arch>.deb
# holding the install layout (cmake/install.cmake) under /usr.
# tests/packaging/deb_test.sh builds and checks it.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME mgteam)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "mgteam maintainers <maintainers@mgteam.dev>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "real-time team sync for an AI coding assistant's memory graph")
set(CPACK_PACKAGE_DESCRIPTION
    "mgteam keeps the memory graph an AI coding assistant builds up (problems, fixes, patterns, decisions and their relationships) in a self-hosted server shared by a team. This package holds the command line (mgteam), the local sync agent (mgteam-agent, a systemd user unit) and the server (mgteam-server, a systemd system unit).")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # mgteam_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The shared libraries' packages (libsqlite3-0, libsodium23,
# libcpp-httplib0.11, ...) as dpkg-shlibdeps finds them in the binaries;
# dpkg-dev provides it (scripts/deps).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_PROJECT_CONFIG_FILE ${CMAKE_CURRENT_LIST_DIR}/package_checks.cmake)
# HTTPS to a server needs the system's CA certificates.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS ca-certificates)

include(CPack)
