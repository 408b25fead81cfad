# isa_flags.cmake: the compiler flags of each CPU instruction-set level,
# defined once. A source file named *_avx2.c, *_avx512.c or *_amx.c is
# compiled for that level and runs only after a CPUID check at run time
# (runtime/device.h); everything else is baseline x86-64.
set(TK_ISA_FLAGS_AVX2 -mavx2 -mfma -mf16c)
set(TK_ISA_FLAGS_AVX512 -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512bf16 ${TK_ISA_FLAGS_AVX2})
set(TK_ISA_FLAGS_AMX -mamx-tile -mamx-bf16 ${TK_ISA_FLAGS_AVX512})

# Gives each file of the list the flags its suffix names.
function(tk_set_isa_flags)
  foreach(src ${ARGN})
    if(src MATCHES "_avx2\\.c$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${TK_ISA_FLAGS_AVX2}")
    elseif(src MATCHES "_avx512\\.c$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${TK_ISA_FLAGS_AVX512}")
    elseif(src MATCHES "_amx\\.c$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${TK_ISA_FLAGS_AMX}")
    endif()
  endforeach()
endfunction()
