# Flags for berth's own targets (tests, tools, examples, fuzzers). berth::berth and berth::net carry none of these:
# a consumer's warning and sanitizer choices stay the consumer's.

# Warnings: the dependencies come in through imported targets, so their headers are SYSTEM includes and stay quiet.
function(berth_set_warnings target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "^(GNU|Clang|AppleClang)$")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic $<$<BOOL:${BERTH_WERROR}>:-Werror>)
  endif()
endfunction()

# The sanitizer flags for a list of sanitizers ("address,undefined", "thread", "fuzzer,address,undefined").
# clang 14 cannot compile coroutines under -fsanitize=function (part of "undefined"): "Cannot represent a difference
# across sections". Recovery is off so that any report fails the test that caused it.
function(berth_sanitizer_flags sanitizers out_var)
  set(flags -fsanitize=${sanitizers} -fno-sanitize-recover=all -fno-omit-frame-pointer)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    list(APPEND flags -fno-sanitize=function)
  endif()
  set(${out_var} ${flags} PARENT_SCOPE)
endfunction()

function(berth_set_sanitizers target)
  if(BERTH_SANITIZE)
    berth_sanitizer_flags("${BERTH_SANITIZE}" flags)
    target_compile_options(${target} PRIVATE ${flags})
    target_link_options(${target} PRIVATE ${flags})
  endif()
endfunction()

# Everything one of berth's own targets needs: warnings and the chosen sanitizers.
function(berth_set_project_flags target)
  berth_set_warnings(${target})
  berth_set_sanitizers(${target})
endfunction()
