# Compiler flags shared by every alignsim target, applied through alignsim_configure_target().

# Warnings are PRIVATE to project targets so that they never leak into users of the library.
function(alignsim_configure_target target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  set_target_properties(${target} PROPERTIES CXX_EXTENSIONS OFF)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                                           -Wno-sign-conversion -Wnon-virtual-dtor)
  # GCC 12's libstdc++ makes -Wrestrict fire falsely on "literal" + std::string (GCC bug 105651).
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  if(ALIGNSIM_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(ALIGNSIM_NATIVE)
    target_compile_options(${target} PRIVATE -march=native)
  endif()
  # Sanitizers (docs/reliability.md) on every project target alike, compiled and linked in.
  if(ALIGNSIM_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${ALIGNSIM_SANITIZE} -fno-sanitize-recover=all
                                             -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=${ALIGNSIM_SANITIZE})
    # GCC's sanitizer instrumentation makes its uninitialized-use warnings fire falsely inside
    # libstdc++'s <regex> and the AVX-512 intrinsics (GCC bugs 105562, 107919); the sanitizers
    # themselves check this, and the build without them keeps the warnings.
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized -Wno-uninitialized)
    endif()
  endif()
endfunction()

# The batch kernel alone is built with -ffast-math and OpenMP SIMD declarations so that GCC
# vectorises logf/cosf through glibc's libmvec (see docs/performance.md). Every run goes through
# the same fixed-width lane loops, so results stay identical whatever the thread count.
function(alignsim_kernel_sources)
  set_source_files_properties(${ARGN} PROPERTIES COMPILE_OPTIONS "-ffast-math;-fopenmp-simd")
endfunction()
