# Install rules for what is neither the packer (tools/mkinitramfs) nor the
# /init (init/CMakeLists.txt): curated policies, key scripts and man pages.
#
# Layout (GNUInstallDirs, so a packager's CMAKE_INSTALL_* settings apply;
# the Yocto cmake class passes them from its bindir/libexecdir/datadir):
#   bin/ima-mkinitramfs                      the packer
#   bin/ima-gen-local-ca.sh, ima-gen-CA-signed.sh
#   libexec/ima-initramfs/ima-init           the static /init, not in PATH:
#                                            it is only ever run as PID 1
#   share/ima-initramfs/policies/*           curated IMA policies
#   share/man/man1/ima-mkinitramfs.1, share/man/man8/ima-init.8

# ima-init itself: init/CMakeLists.txt installs the stripped copy it makes
# after linking (and checks its size), as libexec/ima-initramfs/ima-init.

set(IMAINIT_DATADIR ${CMAKE_INSTALL_DATADIR}/ima-initramfs)

# Policies: every file in policies/ except documentation.
file(GLOB IMAINIT_POLICIES LIST_DIRECTORIES false CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/policies/*)
list(FILTER IMAINIT_POLICIES EXCLUDE REGEX "(\\.md|README[^/]*)$")
if(IMAINIT_POLICIES)
  install(FILES ${IMAINIT_POLICIES} DESTINATION ${IMAINIT_DATADIR}/policies)
endif()

# Key scripts, with meta-integrity's names (keys/debug and the script that
# made those published keys are for tests only and are not installed).
install(PROGRAMS
  ${PROJECT_SOURCE_DIR}/keys/ima-gen-local-ca.sh
  ${PROJECT_SOURCE_DIR}/keys/ima-gen-CA-signed.sh
  DESTINATION ${CMAKE_INSTALL_BINDIR})

# Man pages: one markdown source per page, turned into troff at build time
# by a POSIX awk script. Neither page can come from running the programs:
# in a cross build nothing built here runs on the build host.
find_program(IMAINIT_AWK NAMES awk gawk mawk REQUIRED)
set(IMAINIT_MAN_PAGES ima-mkinitramfs.1 ima-init.8)
set(IMAINIT_MAN_OUTPUTS)
foreach(page ${IMAINIT_MAN_PAGES})
  set(src ${PROJECT_SOURCE_DIR}/man/${page}.md)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/man/${page})
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/man
    COMMAND ${IMAINIT_AWK} -v version=${PROJECT_VERSION} -f ${PROJECT_SOURCE_DIR}/man/md2man.awk ${src} > ${out}.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${out}.tmp ${out}
    DEPENDS ${src} ${PROJECT_SOURCE_DIR}/man/md2man.awk
    COMMENT "Generating man page ${page}"
    VERBATIM)
  list(APPEND IMAINIT_MAN_OUTPUTS ${out})
  string(REGEX REPLACE "^.*\\.([0-9])$" "\\1" section ${page})
  install(FILES ${out} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endforeach()
add_custom_target(man-pages ALL DEPENDS ${IMAINIT_MAN_OUTPUTS})
