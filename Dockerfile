# Kairos in a container: built with the Swift 6 toolchain, run on a slim Debian with only the
# C libraries it links (libpq, libyaml, libcurl and libcrypto for webhooks; the CA store to
# verify https targets), as a non-root user.
#
#   docker build -t kairos .
#   docker run -e DATABASE_URL=postgresql://... -e KAIROS_API_TOKENS=... -p 34000:34000 kairos
#
# `compose.yaml` runs it with a PostgreSQL beside it.

FROM swift:6.0-bookworm AS build
# Unpinned on purpose: Debian stable's packages change only for fixes, which a rebuild should take.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq-dev libyaml-dev libcurl4-openssl-dev libssl-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The manifest first: the dependencies are fetched once, not on every source change.
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
# The Swift runtime and Foundation linked in, so the runtime image needs no toolchain.
RUN swift build -c release --product kairos --static-swift-stdlib \
    && install -D "$(swift build -c release --show-bin-path)/kairos" /out/kairos

FROM debian:bookworm-slim
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 libyaml-0-2 libcurl4 libssl3 ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin kairos
WORKDIR /app
COPY --from=build /out/kairos /usr/local/bin/kairos
COPY default_jobs ./default_jobs
COPY openapi.yaml ./openapi.yaml
USER 10001
# All interfaces inside the container: Kairos then refuses to start without API tokens
# (KAIROS_API_TOKENS) unless KAIROS_ALLOW_UNAUTHENTICATED=true says otherwise.
ENV KAIROS_HOST=0.0.0.0 \
    KAIROS_PORT=34000 \
    KAIROS_DEFAULT_JOBS_DIR=/app/default_jobs \
    KAIROS_OPENAPI_FILE=/app/openapi.yaml
EXPOSE 34000
# Readiness without a client binary: bash's /dev/tcp speaks the one request it needs.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${KAIROS_PORT} && printf 'GET /api/v1/readiness HTTP/1.0\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
# SIGTERM: stop claiming jobs, finish requests under way, exit 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["kairos"]
CMD ["serve"]
