# SPDX-License-Identifier: GPL-3.0-or-later
# Debian packages with CPack (`cpack -G DEB` in a build tree), one per component group:
#   greygated  the daemon, greygatectl, /etc/greygate/greygated.conf (a conffile), the
#              hardened systemd unit, man pages; its maintainer scripts create the greygate
#              system user and /var/lib/greygate, and remove them on purge
#   greygate   the desktop console with its .desktop file, AppStream metainfo and icons
#              (only once app/greygate builds a `greygate` target)
# Only these two components are packaged: an install rule without a COMPONENT (the
# "Unspecified" one) is for `cmake --install` only, so that no other folder's rule can slip
# a file into a package unnoticed.
# Dependencies come from dpkg-shlibdeps (the Qt 6 runtime packages the binaries link), plus
# what the scripts and the Qt platform need. docs/packaging.md tells how to build, install
# and check them, and why each lintian override is there.
include_guard(GLOBAL)

set(_installer ${CMAKE_CURRENT_LIST_DIR})
set(_docdir ${CMAKE_INSTALL_DATAROOTDIR}/doc)

# --- greygated ------------------------------------------------------------------------
# greygated installs itself into this component (app/greygated); greygatectl's own rule has
# no component, so it is named here.
if(TARGET greygatectl)
    install(TARGETS greygatectl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT greygated)
endif()
# /lib/systemd/system, not /usr/lib: Debian 12's place for units shipped in packages.
install(FILES ${_installer}/systemd/greygated.service
    DESTINATION /lib/systemd/system COMPONENT greygated)

# Man pages, compressed as Debian wants them (gzip -n: no name or time stamp, reproducible).
# greygated's options and greygatectl's summary come from their own --help at build time,
# so the pages cannot drift from the programs.
set(_manout)
foreach(page greygated.8 greygatectl.1 greygate.1)
    string(REGEX REPLACE "\\..*$" "" program ${page})
    if(NOT TARGET ${program})
        continue()
    endif()
    string(REGEX MATCH "[0-9]$" section ${page})
    set(out ${CMAKE_BINARY_DIR}/installer/man/${page}.gz)
    set(help_program)
    if(NOT program STREQUAL "greygate")
        set(help_program -DPROGRAM=$<TARGET_FILE:${program}>)
    endif()
    add_custom_command(OUTPUT ${out}
        COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/installer/man
        COMMAND ${CMAKE_COMMAND} ${help_program} -DVERSION=${PROJECT_VERSION}
                -DTEMPLATE=${_installer}/man/${page}.in -DOUTPUT=${out}
                -P ${_installer}/man/GenerateManPage.cmake
        DEPENDS ${_installer}/man/${page}.in ${_installer}/man/GenerateManPage.cmake ${program}
        COMMENT "Writing the man page ${page}"
        VERBATIM)
    list(APPEND _manout ${out})
    set(component greygated)
    if(program STREQUAL "greygate")
        set(component greygate)
    endif()
    install(FILES ${out} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section} COMPONENT ${component})
endforeach()

# The packaged programs resolve every symbol at start (BIND_NOW) under a read-only GOT
# (RELRO), as Debian's hardening asks; a link option only, so no object is rebuilt.
foreach(program greygated greygatectl greygate)
    if(TARGET ${program})
        target_link_options(${program} PRIVATE LINKER:-z,relro LINKER:-z,now)
    endif()
endforeach()

# Each package's copyright and changelog, as Debian policy asks.
set(CPACK_DEBIAN_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
configure_file(${_installer}/debian/changelog.in ${CMAKE_BINARY_DIR}/installer/changelog.Debian
    @ONLY)
set(_changelog ${CMAKE_BINARY_DIR}/installer/changelog.Debian.gz)
add_custom_command(OUTPUT ${_changelog}
    COMMAND gzip -9n -c ${CMAKE_BINARY_DIR}/installer/changelog.Debian > ${_changelog}
    DEPENDS ${CMAKE_BINARY_DIR}/installer/changelog.Debian
    COMMENT "Compressing the Debian changelog"
    VERBATIM)
add_custom_target(greygate_package_files ALL DEPENDS ${_manout} ${_changelog})

set(_groups greygated)
if(TARGET greygate)
    list(APPEND _groups greygate)
endif()
foreach(group IN LISTS _groups)
    install(FILES ${_installer}/debian/copyright ${_changelog}
        DESTINATION ${_docdir}/${group} COMPONENT ${group})
    if(EXISTS ${_installer}/debian/${group}/lintian-overrides)
        install(FILES ${_installer}/debian/${group}/lintian-overrides
            DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/lintian/overrides
            RENAME ${group} COMPONENT ${group})
    endif()
endforeach()

# --- greygate (the console) -------------------------------------------------------------
if(TARGET greygate)
    install(TARGETS greygate RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT greygate)
    install(FILES ${_installer}/desktop/io.greygate.Greygate.desktop
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/applications COMPONENT greygate)
    configure_file(${_installer}/desktop/io.greygate.Greygate.metainfo.xml.in
        ${CMAKE_BINARY_DIR}/installer/io.greygate.Greygate.metainfo.xml @ONLY)
    install(FILES ${CMAKE_BINARY_DIR}/installer/io.greygate.Greygate.metainfo.xml
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/metainfo COMPONENT greygate)
    # hicolor icons from resources/icons (drawn by the console's owner): greygate.svg as the
    # scalable one, greygate.png at the size its PNG header gives (256x256 today).
    set(_icons ${PROJECT_SOURCE_DIR}/resources/icons)
    set(_hicolor ${CMAKE_INSTALL_DATAROOTDIR}/icons/hicolor)
    if(EXISTS ${_icons}/greygate.svg)
        install(FILES ${_icons}/greygate.svg DESTINATION ${_hicolor}/scalable/apps
            RENAME io.greygate.Greygate.svg COMPONENT greygate)
    endif()
    if(EXISTS ${_icons}/greygate.png)
        # IHDR: width and height are the big-endian words at bytes 16 and 20.
        file(READ ${_icons}/greygate.png _ihdr OFFSET 16 LIMIT 8 HEX)
        string(SUBSTRING "${_ihdr}" 0 8 _w)
        string(SUBSTRING "${_ihdr}" 8 8 _h)
        math(EXPR _w "0x${_w}")
        math(EXPR _h "0x${_h}")
        if(_w EQUAL _h AND _w MATCHES "^(16|22|24|32|48|64|128|256|512)$")
            install(FILES ${_icons}/greygate.png DESTINATION ${_hicolor}/${_w}x${_w}/apps
                RENAME io.greygate.Greygate.png COMPONENT greygate)
        else()
            message(WARNING "resources/icons/greygate.png is ${_w}x${_h}: not a hicolor size, "
                "not packaged")
        endif()
    endif()
endif()

# --- CPack ---------------------------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME greygate)
set(CPACK_PACKAGE_VENDOR "The Greygate authors")
set(CPACK_PACKAGE_CONTACT "Greygate maintainers <maintainers@greygate.io>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
# Each package's first description line is its own synopsis: CPackDeb prepends the summary
# to it unless the summary is CPack's default text, which it therefore is.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${CMAKE_PROJECT_NAME} built using CMake")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ONE_PER_GROUP)
set(CPACK_COMPONENTS_ALL greygated)
set(CPACK_COMPONENT_GREYGATED_GROUP greygated)
if(TARGET greygate)
    list(APPEND CPACK_COMPONENTS_ALL greygate)
    set(CPACK_COMPONENT_GREYGATE_GROUP greygate)
endif()

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SECTION mail)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_GREYGATED_PACKAGE_NAME greygated)
set(CPACK_DEBIAN_GREYGATED_PACKAGE_SECTION mail)
# adduser for the maintainer scripts; init-system-helpers for deb-systemd-helper.
set(CPACK_DEBIAN_GREYGATED_PACKAGE_DEPENDS "adduser, init-system-helpers (>= 1.54~)")
set(CPACK_DEBIAN_GREYGATED_PACKAGE_SUGGESTS "postfix | exim4, redis-server")
set(CPACK_DEBIAN_GREYGATED_DESCRIPTION
    "greylisting mail gateway: policy server and SMTP proxy
Greygate defers mail from a never-seen triplet (client address, envelope
sender, recipient) with a temporary failure: real mail servers retry and
are accepted, spam cannons that never retry are not.

This package holds greygated, a drop-in replacement for postgrey as a
Postfix policy server (and an SMTP proxy in front of any mail server),
with policies, sender groups, Auto Allow and a control API, its hardened
systemd unit, and greygatectl, the command-line client of the control API.")
set(CPACK_DEBIAN_GREYGATED_PACKAGE_CONTROL_EXTRA
    ${_installer}/debian/greygated/conffiles
    ${_installer}/debian/greygated/postinst
    ${_installer}/debian/greygated/prerm
    ${_installer}/debian/greygated/postrm)

set(CPACK_DEBIAN_GREYGATE_PACKAGE_NAME greygate)
set(CPACK_DEBIAN_GREYGATE_PACKAGE_SECTION mail)
# The Qt platform plugins are dlopen()ed, so dpkg-shlibdeps cannot see them.
set(CPACK_DEBIAN_GREYGATE_PACKAGE_DEPENDS "qt6-qpa-plugins")
set(CPACK_DEBIAN_GREYGATE_PACKAGE_RECOMMENDS "greygated")
set(CPACK_DEBIAN_GREYGATE_DESCRIPTION
    "greylisting mail gateway: desktop console
Greygate defers mail from a never-seen triplet (client address, envelope
sender, recipient) with a temporary failure: real mail servers retry and
are accepted, spam cannons that never retry are not.

This package holds the Qt desktop console: a dashboard, live attempts,
the greylist queue, policies, sender groups, Auto Allow, the rejection
viewer and reports, for one or several gateways or the one it bundles.")

include(CPack)
