# syntax=docker/dockerfile:1.7
# Kwarm's image: the operator and, at /kwarm/bin/noop, the static helper its pull pods copy in
# (the pull Job's init container runs `/kwarm/bin/noop install /kwarm/noop`).
#
#   docker buildx build --platform linux/amd64,linux/arm64 -t ghcr.io/kwarm-io/kwarm:v0.1.0 --push .
#
# Kwarm is compiled ahead of time (NativeAOT), which links natively and cannot cross-compile without a cross
# toolchain: the build stage runs on the target platform (under emulation for the other architecture). The noop
# helper is cross-compiled for both architectures at once on the builder's own platform. The build stage's commands
# below are run as they are, outside a container engine, by tests/Kwarm.Tests/Deploy/DockerfileTests.cs, which then
# runs the binary they publish through a held, warmed and released rollout on the simulator.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG TARGETARCH
# NativeAOT's platform linker and the zlib it links against.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends clang zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Restore first so the package layer is reused until the project file changes.
COPY Directory.Build.props ./
COPY src/Kwarm/Kwarm.csproj src/Kwarm/
COPY src/Kwarm.Runtime/Kwarm.Runtime.csproj src/Kwarm.Runtime/
RUN dotnet restore src/Kwarm -a $TARGETARCH
COPY src/Kwarm.Runtime/ src/Kwarm.Runtime/
COPY src/Kwarm/ src/Kwarm/
RUN dotnet publish src/Kwarm -c Release -a $TARGETARCH --no-restore -o /app

FROM --platform=$BUILDPLATFORM debian:bookworm-slim AS noop
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gcc gcc-aarch64-linux-gnu binutils \
 && rm -rf /var/lib/apt/lists/*
COPY src/Kwarm.Noop/ /src/Kwarm.Noop/
RUN /src/Kwarm.Noop/build.sh /out all

# A native binary on the chiseled runtime-deps image: no .NET runtime, no shell, no package manager.
FROM mcr.microsoft.com/dotnet/runtime-deps:10.0-noble-chiseled AS final
ARG TARGETARCH
WORKDIR /app
COPY --from=build /app/Kwarm ./
COPY --from=noop /out/noop-${TARGETARCH} /kwarm/bin/noop
USER 65532:65532
EXPOSE 8080 8081 9443
ENTRYPOINT ["/app/Kwarm"]
