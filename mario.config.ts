/** The example project served by `npm start`: the seed's two pipelines over functions/. */
export default {
  functions: "functions",
  pipelines: {
    "example-one": ["generate-file", "delete-file"],
    "hash-and-clean": ["generate-file", "calculate-hash", "delete-file"],
  },
};
