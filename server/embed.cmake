# Turns a text file into a C++ source defining a function that returns it.
# Usage: cmake -DIN=file -DOUT=file.cpp -DFUNC=Name -P embed.cmake
file(READ "${IN}" CONTENT)
file(WRITE "${OUT}.tmp"
  "// Generated from ${IN}; do not edit.\n#include <string_view>\nnamespace mgteam::server {\n"
  "std::string_view ${FUNC}() {\n  static constexpr std::string_view kDoc = R\"MGTEAMDOC(${CONTENT})MGTEAMDOC\";\n  return kDoc;\n}\n}\n")
file(RENAME "${OUT}.tmp" "${OUT}")
