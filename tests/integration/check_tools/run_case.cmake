# Runs `mcpd check-tools` for one integration test case and checks its exit code and output.
#
#   cmake -DMCPD=<binary> -DNODE=<node or empty> -DSPEC=<case file> -P run_case.cmake
#
# The case file (written by check_tools.cmake) sets:
#   CASE_ARGS    arguments after `check-tools`
#   CASE_ENV     NAME=VALUE pairs for the environment (MCPD_CONFIG and DJANGO_BASE_URL are
#                always cleared first, so the caller's environment cannot change the result)
#   CASE_EXIT    the expected exit status
#   CASE_FORMAT  text, json or sarif: json and sarif reports are checked and turned into the
#                text form by report_to_text.cjs, so one set of expectations serves all three
#   CASE_EXPECT  regular expressions; each must match at least one line of the (text) report
#   CASE_REJECT  regular expressions that must match no line of the report
#   CASE_STDERR  regular expressions; each must match at least one line of stderr
cmake_minimum_required(VERSION 3.20)

include(${SPEC})

# Lines become list items; ';' and brackets (which change how CMake splits lists) are
# protected inside the items and restored by restore_line().
function(split_lines text out)
  string(REPLACE ";" "<semicolon>" text "${text}")
  string(REPLACE "[" "<lbracket>" text "${text}")
  string(REPLACE "]" "<rbracket>" text "${text}")
  string(REPLACE "\n" ";" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

function(restore_line line out)
  string(REPLACE "<semicolon>" ";" line "${line}")
  string(REPLACE "<lbracket>" "[" line "${line}")
  string(REPLACE "<rbracket>" "]" line "${line}")
  set(${out} "${line}" PARENT_SCOPE)
endfunction()

function(any_line_matches regex lines out)
  set(found FALSE)
  foreach(line IN LISTS lines)
    restore_line("${line}" line)
    if(line MATCHES "${regex}")
      set(found TRUE)
      break()
    endif()
  endforeach()
  set(${out} ${found} PARENT_SCOPE)
endfunction()

set(failures "")
function(fail message)
  set(failures "${failures}  - ${message}\n" PARENT_SCOPE)
endfunction()

execute_process(
  COMMAND ${CMAKE_COMMAND} -E env --unset=MCPD_CONFIG --unset=DJANGO_BASE_URL ${CASE_ENV}
          ${MCPD} check-tools ${CASE_ARGS}
  RESULT_VARIABLE exit_code
  OUTPUT_VARIABLE stdout
  ERROR_VARIABLE stderr
  TIMEOUT 120)

if(NOT exit_code STREQUAL CASE_EXIT)
  fail("exit status ${exit_code}, expected ${CASE_EXIT}")
endif()

set(report "${stdout}")
if(CASE_FORMAT STREQUAL "json" OR CASE_FORMAT STREQUAL "sarif")
  # Next to the case file, in the build tree (never in the data directory we run in).
  string(REGEX REPLACE "\\.cmake$" ".out" report_file "${SPEC}")
  file(WRITE ${report_file} "${stdout}")
  get_filename_component(here ${CMAKE_CURRENT_LIST_FILE} DIRECTORY)
  execute_process(
    COMMAND ${NODE} ${here}/report_to_text.cjs ${CASE_FORMAT} ${report_file}
    RESULT_VARIABLE convert_code
    OUTPUT_VARIABLE report
    ERROR_VARIABLE convert_error
    TIMEOUT 60)
  if(NOT convert_code EQUAL 0)
    fail("the ${CASE_FORMAT} report is malformed: ${convert_error}")
  endif()
endif()

split_lines("${report}" report_lines)
split_lines("${stderr}" stderr_lines)

foreach(regex IN LISTS CASE_EXPECT)
  any_line_matches("${regex}" "${report_lines}" found)
  if(NOT found)
    fail("no report line matches: ${regex}")
  endif()
endforeach()
foreach(regex IN LISTS CASE_REJECT)
  any_line_matches("${regex}" "${report_lines}" found)
  if(found)
    fail("a report line matches what must not appear: ${regex}")
  endif()
endforeach()
foreach(regex IN LISTS CASE_STDERR)
  any_line_matches("${regex}" "${stderr_lines}" found)
  if(NOT found)
    fail("no stderr line matches: ${regex}")
  endif()
endforeach()

if(CASE_EXIT STREQUAL "2")
  # Usage errors print one `mcpd: error:` line and no report.
  if(NOT stdout STREQUAL "")
    fail("usage error wrote to stdout")
  endif()
elseif(CASE_EXIT STREQUAL "0" OR CASE_EXIT STREQUAL "1")
  # Every report line is a GCC-style diagnostic or the summary; nothing else on stdout.
  set(diagnostic_line "^([^ ][^:]*(:[1-9][0-9]*(:[1-9][0-9]*)?)?: )?(error|warning): .+ \\[[a-z0-9-]+\\]$")
  set(summary_line "^[0-9]+ errors?, [0-9]+ warnings? in [0-9]+ files?$")
  set(last "")
  foreach(line IN LISTS report_lines)
    if(line STREQUAL "")
      continue()
    endif()
    restore_line("${line}" line)
    set(last "${line}")
    if(NOT line MATCHES "${diagnostic_line}" AND NOT line MATCHES "${summary_line}")
      fail("unexpected report line: ${line}")
    endif()
  endforeach()
  if(NOT last MATCHES "${summary_line}")
    fail("the report does not end with the summary line")
  endif()
  if(CASE_EXIT STREQUAL "0" AND report MATCHES "(^|\n|: )error: ")
    fail("exit 0 with an error in the report")
  elseif(CASE_EXIT STREQUAL "1" AND NOT report MATCHES "(^|\n|: )error: ")
    fail("exit 1 without an error in the report")
  endif()
endif()

if(failures)
  message("command: mcpd check-tools ${CASE_ARGS}")
  message("environment: ${CASE_ENV}")
  message("--- stdout ---\n${stdout}--- stderr ---\n${stderr}--------------")
  message(FATAL_ERROR "check-tools case failed:\n${failures}")
endif()
