// Package composetest holds the tests that keep the deployment files (Dockerfile, .dockerignore,
// docker-compose.yml and deploy/) consistent with the binary they run: its subcommands and flags,
// its settings and environment variables, its ports and the configured domains. It has no code of
// its own; there is no Docker engine in CI, so the files are checked by loading them, the compose
// file with the compose-spec library that Docker Compose itself uses.
package composetest
