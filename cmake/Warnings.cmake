# Warnings for the project's own targets (not for dependencies).
function(communesync_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual
                                           -Wconversion -Wno-sign-conversion)
  if(COMMUNESYNC_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
