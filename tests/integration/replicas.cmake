# Replicas: three `mcpd serve --http --stateless` on one PostgreSQL (the fixture `postgres`),
# a real nginx running packaging/nginx/mcpd-replicas.conf in front (replicas/replicas.test.mjs):
# revocation reaching every replica through LISTEN/NOTIFY, a killed and a draining replica.
mcpd_node_test(integration_replicas ${CMAKE_CURRENT_SOURCE_DIR}/replicas/replicas.test.mjs
               "integration;nginx;postgres;replicas"
               "NGINX=${NGINX_EXECUTABLE}" "MCPD_TEST_PG_URL_FILE=${MCPD_PG_URL_FILE}")
set_property(TEST integration_replicas APPEND PROPERTY FIXTURES_REQUIRED postgres)
