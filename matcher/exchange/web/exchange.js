// The exchange's REST API, as any client calls it: Binance's shapes, errors as {code, msg}.

export class ApiError extends Error {
  constructor(body, status) {
    super(body && body.msg ? body.msg : `HTTP ${status}`);
    this.code = body ? body.code : undefined;
    this.status = status;
  }
}

async function send(method, path, params, asBody) {
  let url = path;
  const init = { method, headers: {} };
  if (params && Object.keys(params).length) {
    const query = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString();
    if (asBody) {
      init.body = query;
      init.headers["Content-Type"] = "application/x-www-form-urlencoded";
    } else {
      url += "?" + query;
    }
  }
  const response = await fetch(url, init);
  const text = await response.text();
  const body = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(body, response.status);
  return body;
}

export const api = {
  get: (path, params) => send("GET", path, params, false),
  post: (path, params) => send("POST", path, params, true),
  put: (path, params) => send("PUT", path, params, false),
  del: (path, params) => send("DELETE", path, params, true),
  async serverTime() {
    return (await send("GET", "/api/v3/time")).serverTime;
  },
};
