# Conveniences over the scripts, which are the source of truth.
.PHONY: release release-local test

# dist/: binary, .deb, container image and SHA256SUMS (scripts/release --help).
release:
	scripts/release

# The same where no registry is reachable: the image is built on a builder
# image made from this machine's Go toolchain.
release-local:
	scripts/release --local-builder

test:
	scripts/test
