# Writes the shell completions `mgteam completion SHELL` prints into DIR.
# Usage: cmake -DMGTEAM=path/to/mgteam -DDIR=dir -P completions.cmake
# A failing run leaves no file behind, so the next build tries again.
file(MAKE_DIRECTORY "${DIR}")
foreach(pair bash:mgteam zsh:_mgteam fish:mgteam.fish)
  string(REPLACE ":" ";" pair "${pair}")
  list(GET pair 0 shell)
  list(GET pair 1 name)
  execute_process(COMMAND "${MGTEAM}" completion ${shell}
                  OUTPUT_FILE "${DIR}/${name}.tmp" RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    file(REMOVE "${DIR}/${name}.tmp")
    message(FATAL_ERROR "`${MGTEAM} completion ${shell}` failed (${rc}): ${err}")
  endif()
  file(SIZE "${DIR}/${name}.tmp" size)
  if(size EQUAL 0)
    file(REMOVE "${DIR}/${name}.tmp")
    message(FATAL_ERROR "`${MGTEAM} completion ${shell}` printed nothing")
  endif()
  file(RENAME "${DIR}/${name}.tmp" "${DIR}/${name}")
endforeach()
