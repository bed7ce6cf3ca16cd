# capsim's container image: what the README's Kubernetes Indexed Job and
# AWS Batch array job run (`capsim sweep … --shards N`). Two stages: the
# build, and a small runtime with the binary and the licences of
# everything compiled into it.
#
#   docker build -t capsim:latest .
#   docker run --rm -v "$PWD:/work" capsim:latest capsim run scenarios/quickstart.toml --out reports/q
#
# The toolchain is pinned to the one the project is tested with.

FROM rust:1.95.0-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY assets ./assets
COPY benches ./benches
RUN cargo build --release --locked --bin capsim
# The licence files of every crate the build downloaded, one folder each,
# and the embedded font's.
RUN mkdir -p /licenses/crates /licenses/fonts \
 && cp assets/fonts/LICENSE-DejaVu /licenses/fonts/ \
 && for d in "$CARGO_HOME"/registry/src/*/*/; do \
      n=$(basename "$d"); \
      for f in "$d"LICENSE* "$d"LICENCE* "$d"COPYING* "$d"NOTICE* "$d"UNLICENSE*; do \
        if [ -f "$f" ]; then mkdir -p "/licenses/crates/$n" && cp "$f" "/licenses/crates/$n/"; fi; \
      done; \
    done

FROM debian:bookworm-slim
COPY --from=build /src/target/release/capsim /usr/local/bin/capsim
COPY --from=build /licenses /usr/share/doc/capsim/licenses
# No root; a sweep writes where its --out points (a mounted volume).
USER 65532:65532
WORKDIR /work
CMD ["capsim", "--help"]
