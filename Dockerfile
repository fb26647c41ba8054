# Merlon as a container: a static binary on a distroless base that runs as
# a non-root user. Build: docker build -t merlon .
# Run:   docker run --rm merlon scan https://api.example.com
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X github.com/merlonsec/merlon/internal/cli/cmdutil.Version=${VERSION}" \
    -o /out/merlon ./cmd/merlon

# distroless/static has CA certificates and /etc/passwd with the nonroot
# user (65532), and nothing else: no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/merlon /usr/local/bin/merlon
USER nonroot:nonroot
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/merlon"]
CMD ["--help"]
