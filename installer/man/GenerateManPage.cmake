# SPDX-License-Identifier: GPL-3.0-or-later
# Builds a man page from its template and the program's own --help, so the options a page
# lists are always the ones the program takes (cmake -P, at build time):
#   cmake -DPROGRAM=bin/greygated -DVERSION=0.1.0 -DTEMPLATE=greygated.8.in
#         -DOUTPUT=greygated.8.gz -P GenerateManPage.cmake
# In the template, @HELP_OPTIONS@ becomes one .TP entry per "  --name=VALUE  text" line of
# the help, @HELP_VERBATIM@ the whole help as a no-fill block, @PROJECT_VERSION@ VERSION.
# Without PROGRAM the template only gets its version.

foreach(var VERSION TEMPLATE OUTPUT)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "GenerateManPage.cmake needs -D${var}=...")
    endif()
endforeach()

set(help "")
if(PROGRAM)
    execute_process(COMMAND ${PROGRAM} --help
        OUTPUT_VARIABLE help
        RESULT_VARIABLE rc
        TIMEOUT 30)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "${PROGRAM} --help failed (${rc})")
    endif()
endif()

# Roff: a backslash is \e, a line starting with . or ' needs \& first, '-' in an option is \-.
function(roff_escape text out)
    string(REPLACE "\\" "\\e" text "${text}")
    string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
    set(${out} "${text}" PARENT_SCOPE)
endfunction()

set(options "")
# One list item per line: the help's own semicolons are kept aside first, since a CMake list
# would split at them.
string(REPLACE ";" "@SEMICOLON@" lines "${help}")
string(REPLACE "\n" ";" lines "${lines}")
foreach(line IN LISTS lines)
    string(REPLACE "@SEMICOLON@" ";" line "${line}")
    if(line MATCHES "^  (--[a-z0-9-]+)(=[^ ]+|\\[=[^ ]+\\])? +(.+)$")
        set(name "${CMAKE_MATCH_1}")
        set(value "${CMAKE_MATCH_2}")
        set(text "${CMAKE_MATCH_3}")
        roff_escape("${text}" text)
        roff_escape("${value}" value)
        string(REPLACE "-" "\\-" name "${name}")
        if(value)
            string(APPEND options ".TP\n.BI \"${name}\" \"${value}\"\n${text}\n")
        else()
            string(APPEND options ".TP\n.B ${name}\n${text}\n")
        endif()
    endif()
endforeach()

roff_escape("${help}" verbatim)
string(REGEX REPLACE "\n+$" "" verbatim "${verbatim}")
set(verbatim ".nf\n${verbatim}\n.fi")

file(READ ${TEMPLATE} page)
string(REPLACE "@HELP_OPTIONS@" "${options}" page "${page}")
string(REPLACE "@HELP_VERBATIM@" "${verbatim}" page "${page}")
string(REPLACE "@PROJECT_VERSION@" "${VERSION}" page "${page}")
string(REGEX REPLACE "\n\n+" "\n" page "${page}") # blank lines are not roff
string(REGEX REPLACE "\\.gz$" "" plain ${OUTPUT})
file(WRITE ${plain} "${page}")
execute_process(COMMAND gzip -9nf ${plain} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "gzip ${plain} failed (${rc})")
endif()
