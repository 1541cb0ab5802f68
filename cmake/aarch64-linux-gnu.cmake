# Cross-compiling the client library and its tests for aarch64 (ARM64 phones' CPU) with Debian's
# cross toolchain (crossbuild-essential-arm64) and Debian's arm64 libraries. Used by
# tools/scripts/cross-arm64.sh, which installs them and passes COMMUNESYNC_ARM64_DEPS (a folder of
# arm64 packages unpacked there, for those that cannot be installed beside the amd64 ones).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# Multiarch: arm64 libraries live beside the host's, in /usr/lib/aarch64-linux-gnu; headers that do
# not depend on the architecture (Boost, cereal, nlohmann-json) are shared.
set(CMAKE_FIND_ROOT_PATH ${COMMUNESYNC_ARM64_DEPS} /usr/aarch64-linux-gnu /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
# The unpacked libraries' own dependencies, for the linker and for qemu at run time.
set(CMAKE_EXE_LINKER_FLAGS_INIT
    "-Wl,-rpath-link,${COMMUNESYNC_ARM64_DEPS}/usr/lib/aarch64-linux-gnu -Wl,-rpath-link,/usr/lib/aarch64-linux-gnu")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "${CMAKE_EXE_LINKER_FLAGS_INIT}")
# qemu-aarch64 runs arm64 programs with Debian's arm64 libc (libc6:arm64, multiarch). Not with
# `-L /usr/aarch64-linux-gnu` (the cross toolchain's copy): there every thread creation hangs.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)
# cereal is header-only, but Debian puts its CMake config in the host's architecture folder.
file(GLOB cereal_config_dirs /usr/lib/*-linux-gnu/cmake/cereal)
if(cereal_config_dirs)
  list(GET cereal_config_dirs 0 cereal_first_dir)
  set(cereal_DIR ${cereal_first_dir} CACHE PATH "cereal's CMake config (header-only: any architecture's)")
endif()
