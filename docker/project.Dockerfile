# An image of your own functions, on top of the Mario image. Put this file in your project (the
# folder with mario.config.ts, functions/ and package.json) and build from that folder:
#
#   docker build -f docker/project.Dockerfile -t my-functions .
#   docker run --rm -p 127.0.0.1:8080:8080 my-functions        (mario up; any mario command works)
#
# MARIO_IMAGE: the Mario image to build on (default mario:local, built from Mario's repository
# with docker/Dockerfile). The project's npm dependencies are installed in the build stage only:
# `mario build` bundles them into each function, so the image holds the bundles, not node_modules.
# The image runs as the non-root `node` user and /project is read-only to it. With compose:
# MARIO_IMAGE=my-functions docker compose -f docker/compose.yaml up (its pipeline server serves
# every pipeline of your mario.config.ts).
ARG MARIO_IMAGE=mario:local

FROM ${MARIO_IMAGE} AS build
USER root
WORKDIR /project
COPY package*.json ./
RUN if [ -f package-lock.json ]; then npm ci --omit=dev --no-audit --no-fund; \
    else npm install --omit=dev --no-audit --no-fund; fi
# Copy whatever else your functions import from outside functions/ too.
COPY functions ./functions
COPY mario.config.ts ./
RUN mario build functions --outdir=/out/functions && cp mario.config.ts /out/

FROM ${MARIO_IMAGE}
COPY --from=build /out/ /project/
WORKDIR /project
