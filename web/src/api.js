// The playground's JSON API (outlayer/service/playground/api.py). Every failure, from the
// network or the server, becomes an ApiError carrying the server's {kind, message}.

export class ApiError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

export async function api(path, body) {
  const init = body === undefined ? {} : {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  };
  let response;
  try {
    response = await fetch(`/api/playground/${path}`, init);
  } catch (err) {
    throw new ApiError("NetworkError", `the server did not answer: ${err.message}`);
  }
  let doc;
  try {
    doc = await response.json();
  } catch {
    throw new ApiError(`HTTP ${response.status}`, "the server answered with something that is not JSON");
  }
  if (!response.ok || doc.error && !("status" in doc)) {
    const error = doc.error || { kind: `HTTP ${response.status}`, message: response.statusText };
    throw new ApiError(error.kind, error.message);
  }
  return doc;
}
