# Multi-stage build of execution-apiserver: a static binary on a distroless,
# non-root base.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/execution-apiserver ./cmd/execution-apiserver

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/execution-apiserver /usr/local/bin/execution-apiserver
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/execution-apiserver"]
