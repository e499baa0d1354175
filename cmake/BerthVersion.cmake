# Reads berth's version from include/berth/version.hpp, the only place it is written, into BERTH_VERSION_FROM_HEADER.
# Included before project(), which takes the version from that variable.

set(_berth_version_header "${CMAKE_CURRENT_LIST_DIR}/../include/berth/version.hpp")
file(STRINGS "${_berth_version_header}" _berth_version_lines
     REGEX "^#define BERTH_VERSION_(MAJOR|MINOR|PATCH) +[0-9]+ *$")

set(_berth_version_parts "")
foreach(_berth_part IN ITEMS MAJOR MINOR PATCH)
  if(NOT _berth_version_lines MATCHES "#define BERTH_VERSION_${_berth_part} +([0-9]+)")
    message(FATAL_ERROR "${_berth_version_header} has no '#define BERTH_VERSION_${_berth_part} <number>' line")
  endif()
  list(APPEND _berth_version_parts "${CMAKE_MATCH_1}")
endforeach()
list(JOIN _berth_version_parts "." BERTH_VERSION_FROM_HEADER)

unset(_berth_version_header)
unset(_berth_version_lines)
unset(_berth_version_parts)
unset(_berth_part)
