# Turns a text file into a C++ source defining a function that returns it.
# Usage: cmake -DIN=file -DOUT=file.cpp -DFUNC=Name [-DNS=mgteam::server] -P embed.cmake
file(READ "${IN}" CONTENT)
if(NOT NS)
  set(NS "mgteam::server")
endif()
file(WRITE "${OUT}.tmp"
  "// Generated from ${IN}; do not edit.\n#include <string_view>\nnamespace ${NS} {\n"
  "std::string_view ${FUNC}() {\n  static constexpr std::string_view kDoc = R\"MGTEAMDOC(${CONTENT})MGTEAMDOC\";\n  return kDoc;\n}\n}\n")
file(RENAME "${OUT}.tmp" "${OUT}")
