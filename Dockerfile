# syntax=docker/dockerfile:1.7
# Kwarm's image: the operator and, at /kwarm/bin/noop, the static helper its pull pods copy in
# (the pull Job's init container runs `/kwarm/bin/noop install /kwarm/noop`).
#
#   docker buildx build --platform linux/amd64,linux/arm64 -t ghcr.io/kwarm-io/kwarm:v0.1.0 --push .
#
# Both build stages run on the builder's own platform (no emulation): the SDK cross-targets with -a and the
# noop helper is cross-compiled for both architectures at once. The publish commands below are run as they are,
# outside a container engine, by tests/Kwarm.Tests/Deploy/DockerfileTests.cs.

FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG TARGETARCH
WORKDIR /src
# Restore first so the package layer is reused until the project file changes.
COPY Directory.Build.props ./
COPY src/Kwarm/Kwarm.csproj src/Kwarm/
RUN dotnet restore src/Kwarm -a $TARGETARCH
COPY src/Kwarm/ src/Kwarm/
RUN dotnet publish src/Kwarm -c Release -a $TARGETARCH --no-restore -o /app

FROM --platform=$BUILDPLATFORM debian:bookworm-slim AS noop
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gcc gcc-aarch64-linux-gnu binutils \
 && rm -rf /var/lib/apt/lists/*
COPY src/Kwarm.Noop/ /src/Kwarm.Noop/
RUN /src/Kwarm.Noop/build.sh /out all

# Framework-dependent on the chiseled ASP.NET runtime: no shell, no package manager, nothing to patch but .NET.
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled AS final
ARG TARGETARCH
WORKDIR /app
COPY --from=build /app ./
COPY --from=noop /out/noop-${TARGETARCH} /kwarm/bin/noop
USER 65532:65532
EXPOSE 8080 8081 9443
ENTRYPOINT ["dotnet", "Kwarm.dll"]
