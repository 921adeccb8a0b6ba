# JWT bearer authentication through the real binary (tests/integration/jwt/*.test.mjs): HS256
# tokens signed by the test with node:crypto, opaque tokens from the real CLI side by side,
# revoked jtis, the RFC 9728 metadata document and challenge, MCPD_TOKEN as a JWT on stdio.
# Uses the HTTP tests' helpers and the SDK from tests/integration/setup.sh (fixture
# integration_npm). Every name contains "jwt": ctest -R jwt.

mcpd_node_test(integration_jwt ${CMAKE_CURRENT_SOURCE_DIR}/jwt/jwt.test.mjs
               "integration;http;jwt")
