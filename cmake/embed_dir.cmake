# Turns every file under a directory into a C++ source of byte arrays and a
# table of (relative path, bytes), for the dashboard built into
# mgteam-server (server/web_files.h). Binary-safe, no raw strings.
# Usage: cmake -DDIR=server/web -DOUT=web_files_data.cpp -P embed_dir.cmake
file(GLOB_RECURSE files RELATIVE "${DIR}" "${DIR}/*")
list(SORT files)
set(arrays "")
set(table "")
set(i 0)
foreach(rel IN LISTS files)
  get_filename_component(name "${rel}" NAME)
  if(name MATCHES "^\\." OR name MATCHES "~$")
    continue()
  endif()
  file(READ "${DIR}/${rel}" hex HEX)
  string(LENGTH "${hex}" hex_len)
  math(EXPR size "${hex_len} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  # A trailing 0 keeps an empty file's array legal; `size` leaves it out.
  string(APPEND arrays "const unsigned char k${i}[] = {${bytes}0};\n")
  string(APPEND table "      {\"${rel}\", std::string_view(reinterpret_cast<const char*>(k${i}), ${size})},\n")
  math(EXPR i "${i} + 1")
endforeach()
file(WRITE "${OUT}.tmp"
  "// Generated from ${DIR} by cmake/embed_dir.cmake; do not edit.\n"
  "#include \"web_files.h\"\n\nnamespace mgteam::server {\nnamespace {\n${arrays}}  // namespace\n\n"
  "std::span<const EmbeddedFile> EmbeddedWebFiles() {\n"
  "  static const EmbeddedFile kFiles[] = {\n${table}      {\"\", std::string_view()}};\n"
  "  return std::span<const EmbeddedFile>(kFiles, ${i});\n}\n\n}  // namespace mgteam::server\n")
file(RENAME "${OUT}.tmp" "${OUT}")
