# The rendered metrics exposition passes Prometheus' own checker.
find_program(PROMTOOL_EXECUTABLE promtool)
if(NOT PROMTOOL_EXECUTABLE)
  message(FATAL_ERROR "promtool not found: install Debian's prometheus package (.ci/install-deps)")
endif()
add_test(NAME metrics:promtool
  COMMAND sh -c "MCPD_METRICS_SAMPLE=\"$0\" \"$1\" '[promtool]' && \"$2\" check metrics < \"$0\""
          ${CMAKE_CURRENT_BINARY_DIR}/metrics-sample.prom $<TARGET_FILE:test_metrics> ${PROMTOOL_EXECUTABLE})
