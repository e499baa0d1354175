# Fuzz targets: every fuzz/<name>_fuzzer.cpp defines LLVMFuzzerTestOneInput. Each becomes
#   <name>_fuzzer_replay  the target plus fuzz/replay_main.cpp, with any compiler: it runs the checked-in inputs
#                         (CTest fuzz/<name>_fuzzer_replay, label "fuzz");
#   <name>_fuzzer         with clang, a libFuzzer executable under ASan+UBSan: a bounded run of BERTH_FUZZ_SECONDS
#                         seconds (CTest fuzz-run/<name>_fuzzer, label "fuzz-run").
# Inputs: fuzz/corpus/<name>_fuzzer/ (seeds), fuzz/regressions/<name>_fuzzer/ (inputs that once failed),
# and the optional dictionary fuzz/<name>_fuzzer.dict.

set(berth_fuzz_dir "${PROJECT_SOURCE_DIR}/fuzz")
file(GLOB berth_fuzz_sources CONFIGURE_DEPENDS "${berth_fuzz_dir}/*_fuzzer.cpp")
# Listing the input folders makes CMake re-run when one is added, so its replay test appears without a manual
# reconfigure.
file(GLOB berth_fuzz_input_dirs LIST_DIRECTORIES true CONFIGURE_DEPENDS
     "${berth_fuzz_dir}/corpus/*" "${berth_fuzz_dir}/regressions/*")

set(berth_replay_main "${berth_fuzz_dir}/replay_main.cpp")
if(berth_fuzz_sources AND NOT EXISTS "${berth_replay_main}")
  message(STATUS "berth: fuzz/replay_main.cpp is missing, so the fuzz replay executables are not built")
endif()

# libFuzzer needs clang. A thread-sanitized configuration builds no libFuzzer executables: libFuzzer's value is
# finding memory errors and undefined behaviour, which ASan and UBSan detect.
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND NOT BERTH_SANITIZE STREQUAL "thread")
  set(berth_build_libfuzzer TRUE)
  berth_sanitizer_flags("fuzzer,address,undefined" berth_libfuzzer_flags)
  # Fuzzing at -O0 (a Debug build) is 4 to 5 times slower; optimised configurations keep their own level.
  list(APPEND berth_libfuzzer_flags -g $<$<NOT:$<CONFIG:Release,RelWithDebInfo,MinSizeRel>>:-O1>)
else()
  set(berth_build_libfuzzer FALSE)
endif()

foreach(source IN LISTS berth_fuzz_sources)
  get_filename_component(name "${source}" NAME_WE)

  if(EXISTS "${berth_replay_main}")
    add_executable(${name}_replay "${source}" "${berth_replay_main}")
    target_link_libraries(${name}_replay PRIVATE ${BERTH_FULL_TARGET})
    berth_set_project_flags(${name}_replay)

    set(inputs "")
    foreach(kind IN ITEMS corpus regressions)
      if(IS_DIRECTORY "${berth_fuzz_dir}/${kind}/${name}")
        list(APPEND inputs "${berth_fuzz_dir}/${kind}/${name}")
      endif()
    endforeach()
    if(inputs)
      add_test(NAME fuzz/${name}_replay COMMAND ${name}_replay ${inputs})
      set_tests_properties(fuzz/${name}_replay PROPERTIES LABELS fuzz TIMEOUT 300)
    else()
      message(STATUS "berth: ${name} has neither fuzz/corpus/${name}/ nor fuzz/regressions/${name}/ to replay")
    endif()
  endif()

  if(berth_build_libfuzzer)
    add_executable(${name} "${source}")
    target_link_libraries(${name} PRIVATE ${BERTH_FULL_TARGET})
    berth_set_warnings(${name})
    target_compile_options(${name} PRIVATE ${berth_libfuzzer_flags})
    target_link_options(${name} PRIVATE ${berth_libfuzzer_flags})

    # libFuzzer writes new inputs into its first corpus folder, so the work folder in the build tree comes first
    # and the checked-in corpus is only read.
    set(work_dir "${PROJECT_BINARY_DIR}/fuzz-work/${name}")
    file(MAKE_DIRECTORY "${work_dir}/corpus" "${work_dir}/artifacts")
    set(run_args -max_total_time=${BERTH_FUZZ_SECONDS} -timeout=10 -print_final_stats=1
                 "-artifact_prefix=${work_dir}/artifacts/")
    if(EXISTS "${berth_fuzz_dir}/${name}.dict")
      list(APPEND run_args "-dict=${berth_fuzz_dir}/${name}.dict")
    endif()
    list(APPEND run_args "${work_dir}/corpus")
    if(IS_DIRECTORY "${berth_fuzz_dir}/corpus/${name}")
      list(APPEND run_args "${berth_fuzz_dir}/corpus/${name}")
    endif()
    add_test(NAME fuzz-run/${name} COMMAND ${name} ${run_args})
    math(EXPR run_timeout "${BERTH_FUZZ_SECONDS} + 120")
    set_tests_properties(fuzz-run/${name} PROPERTIES LABELS fuzz-run TIMEOUT ${run_timeout})
  endif()
endforeach()
