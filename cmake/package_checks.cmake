# Read by cpack itself (CPACK_PROJECT_CONFIG_FILE). Without dpkg-shlibdeps
# CPack still makes the .deb, with a message and no Depends at all: a package
# that installs and then fails to start. Refuse instead.
if(CPACK_GENERATOR STREQUAL "DEB")
  find_program(MGTEAM_SHLIBDEPS dpkg-shlibdeps)
  find_program(MGTEAM_FILE file)
  if(NOT MGTEAM_SHLIBDEPS OR NOT MGTEAM_FILE)
    message(FATAL_ERROR "the .deb's Depends come from dpkg-shlibdeps and file: "
                        "install them (apt-get install dpkg-dev file, or scripts/deps)")
  endif()
endif()
