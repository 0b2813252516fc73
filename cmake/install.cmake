# The install layout (`cmake --install build --prefix P`, and the .deb with
# P = /usr): the programs in P/bin, man pages, shell completions where
# bash-completion, zsh and fish look for them, the systemd units, and
# examples in P/share/mgteam.
#
# `mgteam agent install` relies on the units' place: next to P/bin/mgteam it
# looks for P/lib/systemd/user/mgteam-agent.service (cli/commands/sync.cpp).

install(FILES man/mgteam.1 man/mgteam-agent.1 DESTINATION share/man/man1)
install(FILES man/mgteam-server.8 DESTINATION share/man/man8)

# Completions are printed by the CLI itself (`mgteam completion SHELL`), so
# they always match its commands: run the freshly built binary.
set(completion_dir ${PROJECT_BINARY_DIR}/completions)
set(completion_files ${completion_dir}/mgteam ${completion_dir}/_mgteam ${completion_dir}/mgteam.fish)
add_custom_command(
  OUTPUT ${completion_files}
  COMMAND ${CMAKE_COMMAND} -DMGTEAM=$<TARGET_FILE:mgteam> -DDIR=${completion_dir}
          -P ${PROJECT_SOURCE_DIR}/cmake/completions.cmake
  DEPENDS mgteam ${PROJECT_SOURCE_DIR}/cmake/completions.cmake
  COMMENT "Generating shell completions with the built mgteam"
  VERBATIM)
add_custom_target(completions ALL DEPENDS ${completion_files})
install(FILES ${completion_dir}/mgteam DESTINATION share/bash-completion/completions)
install(FILES ${completion_dir}/_mgteam DESTINATION share/zsh/vendor-completions)
install(FILES ${completion_dir}/mgteam.fish DESTINATION share/fish/vendor_completions.d)

# The units name the installed programs by absolute path, and the prefix is
# only known at install time (`--prefix`, or /usr under cpack), so they are
# filled in then. Each install fills its own copy (keyed by destination):
# the packaging tests install twice at once.
install(CODE "set(MGTEAM_UNIT_SOURCES \"${PROJECT_SOURCE_DIR}/scripts/systemd\")
set(MGTEAM_UNIT_WORK \"${PROJECT_BINARY_DIR}/units\")")
install(CODE [[
  set(AGENT "${CMAKE_INSTALL_PREFIX}/bin/mgteam-agent")
  set(SERVER "${CMAKE_INSTALL_PREFIX}/bin/mgteam-server")
  string(SHA1 key "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}")
  set(work "${MGTEAM_UNIT_WORK}/${key}")
  configure_file("${MGTEAM_UNIT_SOURCES}/mgteam-agent.service" "${work}/mgteam-agent.service" @ONLY)
  configure_file("${MGTEAM_UNIT_SOURCES}/mgteam-server.service" "${work}/mgteam-server.service" @ONLY)
  file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/user" TYPE FILE FILES "${work}/mgteam-agent.service")
  file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system" TYPE FILE FILES "${work}/mgteam-server.service")
  file(REMOVE_RECURSE "${work}")
]])

install(FILES scripts/launchd/dev.mgteam.agent.plist DESTINATION share/mgteam)
install(FILES scripts/nginx/mgteam.conf DESTINATION share/mgteam RENAME nginx.conf)
install(FILES scripts/systemd/mgteam-server.env DESTINATION share/mgteam)
