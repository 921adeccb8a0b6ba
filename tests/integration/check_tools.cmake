# Integration tests of `mcpd check-tools`: the real binary on the descriptor trees in
# tests/data/check-tools (good/ is clean; broken/ has one small file per rule), checking exit
# codes, the GCC-style diagnostic (file:line:col, severity, rule id) and every report format.
# Each case is run by check_tools/run_case.cmake from the data directory, so reported paths
# are relative (broken/x.json), as a pre-commit hook would pass them.

set(check_tools_dir ${CMAKE_CURRENT_SOURCE_DIR}/check_tools)
set(check_tools_data ${PROJECT_SOURCE_DIR}/tests/data/check-tools)
set(check_tools_specs ${CMAKE_CURRENT_BINARY_DIR}/check_tools)

# check_tools_case(NAME EXIT code ARGS ... [ENV VAR=value ...] [EXPECT regex ...]
#                  [REJECT regex ...] [STDERR regex ...] [ALL_FORMATS])
# Regular expressions apply to single lines of the text report. ALL_FORMATS also runs the case
# with --format json and --format sarif; those reports are validated and converted to the text
# form (check_tools/report_to_text.cjs), so the same expectations must hold for them.
function(check_tools_case name)
  cmake_parse_arguments(PARSE_ARGV 1 case "ALL_FORMATS" "EXIT" "ARGS;ENV;EXPECT;REJECT;STDERR")
  set(formats text)
  if(case_ALL_FORMATS AND NODE_EXECUTABLE)
    list(APPEND formats json sarif)
  endif()
  foreach(format IN LISTS formats)
    set(test_name check_tools.${name})
    set(args ${case_ARGS})
    if(NOT format STREQUAL "text")
      set(test_name ${test_name}.${format})
      list(APPEND args --format ${format})
    endif()
    # Bracket arguments keep regular expressions and paths exactly as written.
    set(spec "set(CASE_EXIT ${case_EXIT})\nset(CASE_FORMAT ${format})\n")
    foreach(var ARGS ENV EXPECT REJECT STDERR)
      set(values ${case_${var}})
      if(var STREQUAL "ARGS")
        set(values ${args})
      endif()
      string(APPEND spec "set(CASE_${var}")
      foreach(value IN LISTS values)
        string(APPEND spec " [==[${value}]==]")
      endforeach()
      string(APPEND spec ")\n")
    endforeach()
    set(spec_file ${check_tools_specs}/${test_name}.cmake)
    file(WRITE ${spec_file} "${spec}")
    add_test(NAME ${test_name}
             COMMAND ${CMAKE_COMMAND} -DMCPD=${MCPD_BINARY} -DNODE=${NODE_EXECUTABLE}
                     -DSPEC=${spec_file} -P ${check_tools_dir}/run_case.cmake
             WORKING_DIRECTORY ${check_tools_data})
    set_tests_properties(${test_name} PROPERTIES TIMEOUT 120 LABELS check_tools)
  endforeach()
endfunction()

# A diagnostic line: check_tools_diag(out file line severity rule) sets `out` to a regular
# expression for `file:line:COL: severity: ... [rule]`.
function(check_tools_diag out file line severity rule)
  string(REPLACE "." "\\." file "${file}")
  set(${out} "^${file}:${line}:[1-9][0-9]*: ${severity}: .+ \\[${rule}\\]$" PARENT_SCOPE)
endfunction()

# One broken file, one rule: exit 1 (or 0 for warnings), the diagnostic at the right line.
function(check_tools_rule name line severity rule)
  set(file broken/${name}.json)
  check_tools_diag(expect ${file} ${line} ${severity} ${rule})
  set(exit 1)
  if(severity STREQUAL "warning")
    set(exit 0)
  endif()
  check_tools_case(rule.${name} EXIT ${exit} ARGS ${file} ${ARGN}
                   EXPECT "${expect}" "^[0-9]+ errors?, [0-9]+ warnings? in 1 file$"
                   ALL_FORMATS)
endfunction()

# --- clean trees ----------------------------------------------------------------------------
check_tools_case(good EXIT 0 ARGS good
                 EXPECT "^0 errors, 0 warnings in 2 files$" ALL_FORMATS)
check_tools_case(good_files EXIT 0 ARGS good/products.json good/docs.json
                 EXPECT "^0 errors, 0 warnings in 2 files$")
# With the config file: its upstreams are checked and its `tools` are the default paths
# (relative to the config file).
check_tools_case(config_default_paths EXIT 0 ARGS --config mcpd.json
                 EXPECT "^0 errors, 0 warnings in 2 files$" ALL_FORMATS)
check_tools_case(config_from_environment EXIT 0 ENV MCPD_CONFIG=mcpd.json
                 EXPECT "^0 errors, 0 warnings in 2 files$")

# --- one rule each --------------------------------------------------------------------------
check_tools_rule(json_syntax 5 error json-syntax)
check_tools_rule(not_an_object 1 error top-level)
check_tools_rule(duplicate_key 6 error duplicate-key)
check_tools_rule(unknown_key 6 error unknown-key)
check_tools_rule(unknown_top_key 2 error unknown-key)
check_tools_rule(bad_name 4 error tool-name)
check_tools_rule(name_too_long 4 error tool-name)
check_tools_rule(name_dot 4 warning tool-name)
check_tools_rule(name_long_warning 4 warning tool-name)
check_tools_rule(duplicate_in_file 10 error duplicate-name)
check_tools_rule(missing_description 3 error description)
check_tools_rule(long_description 5 error description)
check_tools_rule(input_schema_not_object 6 error input-schema)
check_tools_rule(input_schema_invalid 7 error input-schema)
check_tools_rule(output_schema_invalid 7 error output-schema)
check_tools_rule(required_unknown 8 error required-unknown)
check_tools_rule(handler_missing 3 error handler)
check_tools_rule(handler_two_kinds 7 error handler)
check_tools_rule(handler_empty 7 error handler)
check_tools_rule(unknown_placeholder 9 error unknown-placeholder)
check_tools_rule(unknown_upstream 7 error unknown-upstream --config mcpd.json)
check_tools_rule(missing_resource_file 5 error missing-file)
check_tools_rule(missing_command 7 error missing-file)
check_tools_rule(prompt_undeclared_argument 6 error unknown-placeholder)
check_tools_rule(prompt_unused_argument 5 warning unused-argument)
check_tools_rule(hidden_unicode 5 warning hidden-unicode)
check_tools_rule(html_comment 5 warning html-comment)
check_tools_rule(suspicious_instructions 5 warning suspicious-instructions)
check_tools_rule(destructive_hint 4 warning destructive-hint)

# --- behaviour ------------------------------------------------------------------------------
# Names clash across files of one run: the second file gets the error.
check_tools_diag(duplicate_across broken/duplicate_across/b.json 4 error duplicate-name)
check_tools_case(directory_argument EXIT 1 ARGS broken/duplicate_across
                 EXPECT "${duplicate_across}" "^1 error, 0 warnings in 2 files$" ALL_FORMATS)
# Each file alone is fine.
check_tools_case(duplicate_single_file EXIT 0 ARGS broken/duplicate_across/a.json
                 EXPECT "^0 errors, 0 warnings in 1 file$")
# Without a config file upstream names are unknown, so not checked.
check_tools_case(upstream_without_config EXIT 0 ARGS broken/unknown_upstream.json
                 REJECT "unknown-upstream")
# DJANGO_BASE_URL defines the upstream "django" on top of the config file.
check_tools_case(django_from_environment EXIT 0
                 ARGS --config mcpd.json broken/destructive_hint.json
                 ENV DJANGO_BASE_URL=https://api.example.com
                 REJECT "unknown-upstream")
# Both tools of destructive_hint.json are reported.
check_tools_diag(drop_cache broken/destructive_hint.json 10 warning destructive-hint)
check_tools_case(destructive_hint_both EXIT 0 ARGS broken/destructive_hint.json
                 EXPECT "${drop_cache}" "^0 errors, 2 warnings in 1 file$")
# Warnings become errors.
check_tools_diag(name_dot_error broken/name_dot.json 4 error tool-name)
check_tools_case(warnings_as_errors EXIT 1 ARGS --warnings-as-errors broken/name_dot.json
                 EXPECT "${name_dot_error}" "^1 error, 0 warnings in 1 file$" ALL_FORMATS)
# --max-description moves the limit both ways.
check_tools_case(max_description_raised EXIT 0
                 ARGS --max-description 2000 broken/long_description.json
                 REJECT "\\[description\\]")
check_tools_diag(short_limit good/docs.json "[0-9]+" error description)
check_tools_case(max_description_lowered EXIT 1 ARGS --max-description 30 good
                 EXPECT "${short_limit}")
# Everything wrong at once: every file is reported, in order, in one run.
check_tools_case(whole_broken_tree EXIT 1 ARGS broken
                 EXPECT "^broken/bad_name.json:" "^broken/unknown_key.json:" ALL_FORMATS)
# A path that does not exist is an error of the run, not a crash.
check_tools_case(missing_path EXIT 1 ARGS no/such/tools.json
                 EXPECT "^no/such/tools.json(:[0-9]+:[0-9]+)?: error: ")

# --- usage errors: exit 2, one line on stderr, nothing on stdout ------------------------------
check_tools_case(usage_no_paths EXIT 2 STDERR "^mcpd: error: ")
check_tools_case(usage_bad_format EXIT 2 ARGS --format xml good STDERR "^mcpd: error: ")
check_tools_case(usage_bad_option EXIT 2 ARGS --frobnicate good STDERR "^mcpd: error: ")
check_tools_case(usage_zero_max_description EXIT 2 ARGS --max-description 0 good
                 STDERR "^mcpd: error: ")
check_tools_case(usage_text_max_description EXIT 2 ARGS --max-description many good
                 STDERR "^mcpd: error: ")
check_tools_case(usage_missing_config EXIT 2 ARGS --config no-such-mcpd.json good
                 STDERR "^mcpd: error: ")

# --- the pre-commit hook (only where pre-commit is installed: `apt install pre-commit`) -------
find_program(PRE_COMMIT_EXECUTABLE pre-commit)
find_program(GIT_EXECUTABLE_FOR_HOOK git)
if(PRE_COMMIT_EXECUTABLE AND GIT_EXECUTABLE_FOR_HOOK)
  add_test(NAME check_tools.pre_commit_hook
           COMMAND sh ${check_tools_dir}/pre_commit_hook.sh ${PRE_COMMIT_EXECUTABLE}
                   ${MCPD_BINARY} ${PROJECT_SOURCE_DIR})
  set_tests_properties(check_tools.pre_commit_hook PROPERTIES TIMEOUT 300 LABELS check_tools)
else()
  message(STATUS "pre-commit not found: check_tools.pre_commit_hook is not run")
endif()
