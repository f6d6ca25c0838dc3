# Shared build settings for every vfo target.

# Warnings are errors everywhere (DESIGN.md, Conventions).
set(VFO_WARNINGS -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
                 -Wpointer-arith -Wvla)
add_compile_options(${VFO_WARNINGS})

if(VFO_SANITIZE)
    add_compile_options(-fsanitize=${VFO_SANITIZE} -fno-omit-frame-pointer
                        -fno-sanitize-recover=all)
    add_link_options(-fsanitize=${VFO_SANITIZE})
endif()

# Fuzzing (tests/fuzz, docs/fuzzing.md): clang's coverage instrumentation on
# every target, so libFuzzer sees the edges of lib/, service/ and tools/; the
# fuzz_* executables add the libFuzzer runtime (-fsanitize=fuzzer).
option(VFO_FUZZ "Build tests/fuzz as libFuzzer targets (clang)" OFF)
if(VFO_FUZZ)
    if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
        message(FATAL_ERROR "VFO_FUZZ needs clang (-DCMAKE_C_COMPILER=clang)")
    endif()
    add_compile_options(-fsanitize=fuzzer-no-link)
endif()

# What a WDK build (/W4 /WX) rejects, as errors on their own, so the driver and
# lib/ fail here as they would at a Windows developer's desk even where -Werror
# is relaxed: C4013 (implicit declaration), C4133/C4047 and mismatched handler
# prototypes (incompatible pointer and function-pointer types), C4047 (int <->
# pointer), C4715 (missing return).  GCC folds function-pointer mismatches into
# incompatible-pointer-types; clang has a separate switch.
set(VFO_WDK_STRICT -Werror=implicit-function-declaration -Werror=incompatible-pointer-types
                   -Werror=int-conversion -Werror=return-type)
if(CMAKE_C_COMPILER_ID MATCHES "Clang")
    list(APPEND VFO_WDK_STRICT -Werror=incompatible-function-pointer-types)
endif()

# The OS-dependency header every platform provides to lib/ (atomics, barriers).
set(VFO_OSDEP_DIR ${PROJECT_SOURCE_DIR}/osdep)

# vfo_add_subdirs(<dir>...): descend into each dir that has a CMakeLists.txt,
# and into each of its immediate children that has one when the dir itself
# has none. Lets components land independently without editing this file.
function(vfo_add_subdirs)
    foreach(dir ${ARGN})
        set(abs ${PROJECT_SOURCE_DIR}/${dir})
        if(EXISTS ${abs}/CMakeLists.txt)
            add_subdirectory(${abs})
        elseif(IS_DIRECTORY ${abs})
            file(GLOB children LIST_DIRECTORIES true ${abs}/*)
            list(SORT children)
            foreach(child ${children})
                if(EXISTS ${child}/CMakeLists.txt)
                    add_subdirectory(${child})
                endif()
            endforeach()
        endif()
    endforeach()
endfunction()

# vfo_portable_library(<name> <sources>...): a lib/ component. Portable C only:
# the include path holds nothing but the component's own headers, the other
# lib/ components and osdep/.
function(vfo_portable_library name)
    add_library(${name} STATIC ${ARGN})
    target_include_directories(${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
                                              ${VFO_OSDEP_DIR})
    if(NOT MSVC)
        # -ffreestanding would hide <string.h> helpers we are allowed;
        # -pedantic catches GNU extensions that MSVC kernel builds reject.
        target_compile_options(${name} PRIVATE -pedantic-errors ${VFO_WDK_STRICT})
    endif()
endfunction()
