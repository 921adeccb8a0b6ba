# The HTTP transport (`mcpd serve --http`): the real binary on a free port, driven by node's
# test runner with the official MCP TypeScript SDK (Streamable HTTP and the legacy HTTP+SSE
# client), raw HTTP for what the SDK never sends, and tokens made by the real CLI against a
# temporary SQLite database (tests/integration/http/*.test.mjs). Then the official MCP
# conformance suite (tests/conformance/run.sh). Every name contains "http": ctest -R http.
# The SDK comes from tests/integration/setup.sh (fixture integration_npm); the conformance
# suite installs its own Node into .node/ on first use. Nothing here is skipped: without node,
# npm or the registry these tests fail.

set(http_dir ${CMAKE_CURRENT_SOURCE_DIR}/http)
set(http_tests
  streamable
  auth
  legacy_sse
  limits
  lifecycle
  systemd)

if(NODE_EXECUTABLE)
  set(http_node ${NODE_EXECUTABLE})
else()
  set(http_node node)
endif()

if(NOT TEST integration_npm_setup)
  add_test(NAME integration_npm_setup COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/setup.sh)
  set_tests_properties(integration_npm_setup PROPERTIES
    FIXTURES_SETUP integration_npm
    TIMEOUT 600
    LABELS integration)
endif()

foreach(name IN LISTS http_tests)
  add_test(NAME integration_http_${name}
           COMMAND ${http_node} --test --test-reporter=spec ${http_dir}/${name}.test.mjs
           WORKING_DIRECTORY ${http_dir})
  set_tests_properties(integration_http_${name} PROPERTIES
    ENVIRONMENT "MCPD_BINARY=${MCPD_BINARY}"
    FIXTURES_REQUIRED integration_npm
    TIMEOUT 300
    LABELS "integration;http")
endforeach()

add_test(NAME conformance_http
         COMMAND bash ${PROJECT_SOURCE_DIR}/tests/conformance/run.sh --mcpd ${MCPD_BINARY})
set_tests_properties(conformance_http PROPERTIES
  TIMEOUT 900
  LABELS "conformance;http")
