# The programs every consumer project builds and registers as tests, once it has berth::berth (and berth::net
# when WITH_NET is on). Included by the consumer projects' CMakeLists.txt.

enable_testing()

function(add_consumer_program name source berth_target)
  add_executable(${name} "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/${source}")
  target_link_libraries(${name} PRIVATE ${berth_target})
  target_compile_definitions(${name} PRIVATE EXPECTED_VERSION="${EXPECTED_VERSION}")
  target_compile_options(${name} PRIVATE -Wall -Wextra -Wpedantic)
  add_test(NAME ${name} COMMAND ${name})
endfunction()
