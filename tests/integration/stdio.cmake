# Integration tests of `mcpd serve --stdio`: the real binary driven by the official MCP
# TypeScript SDK (Client + StdioClientTransport) and by raw child processes, with node's
# built-in test runner. One CTest test per file; every behaviour is its own node test inside.
# The SDK comes from tests/integration/setup.sh (npm ci), the fixture "integration_npm_setup":
# without it (no node, no npm, no registry) these tests fail; they are never skipped.

set(stdio_dir ${CMAKE_CURRENT_SOURCE_DIR})
set(stdio_tests
  stdio_tools
  stdio_calls
  stdio_client_requests
  stdio_content
  stdio_raw
  stdio_token)

if(NODE_EXECUTABLE)
  set(stdio_node ${NODE_EXECUTABLE})
else()
  # Keep the tests registered so that a machine without node reports failures, not silence.
  set(stdio_node node)
endif()

if(NOT TEST integration_npm_setup)
  add_test(NAME integration_npm_setup COMMAND bash ${stdio_dir}/setup.sh)
  set_tests_properties(integration_npm_setup PROPERTIES
    FIXTURES_SETUP integration_npm
    TIMEOUT 600
    LABELS integration)
endif()

foreach(name IN LISTS stdio_tests)
  add_test(NAME integration_${name}
           COMMAND ${stdio_node} --test --test-reporter=spec ${stdio_dir}/${name}.test.mjs
           WORKING_DIRECTORY ${stdio_dir})
  set_tests_properties(integration_${name} PROPERTIES
    ENVIRONMENT "MCPD_BINARY=${MCPD_BINARY}"
    FIXTURES_REQUIRED integration_npm
    TIMEOUT 300
    LABELS "integration;stdio")
endforeach()
