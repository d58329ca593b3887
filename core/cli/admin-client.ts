import { request } from "node:http";
import { ErrorCodes } from "../errors/error-codes.js";
import { PortalError } from "../errors/portal-error.js";

/** One authenticated request to the running portal's admin endpoint. */
export function adminRequest(admin: { host: string; port: number }, secret: string, method: "GET" | "POST", path: string, timeoutMs = 15_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request({ host: admin.host, port: admin.port, method, path, headers: { authorization: `Bearer ${secret}` }, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => {
        let parsed: unknown = body;
        try {
          parsed = JSON.parse(body);
        } catch {
          /* keep text */
        }
        if ((res.statusCode ?? 500) >= 400) {
          const code = res.statusCode === 401 ? ErrorCodes.ADMIN_AUTH : ErrorCodes.ADMIN_REQUEST;
          reject(new PortalError(code, `admin endpoint answered ${res.statusCode}: ${body.slice(0, 200)}`));
        } else resolve(parsed);
      });
    });
    let timedOut = false;
    req.on("timeout", () => {
      timedOut = true;
      req.destroy(new Error(`no answer within ${timeoutMs} ms`));
    });
    req.on("error", (err: NodeJS.ErrnoException) =>
      reject(timedOut
        ? new PortalError(ErrorCodes.ADMIN_REQUEST, `the portal's admin endpoint at ${admin.host}:${admin.port} did not answer ${method} ${path} within ${timeoutMs} ms`)
        : err.code === "ECONNRESET"
          // Accepted, then closed unanswered: what the endpoint does beyond admin.maxConnections.
          ? new PortalError(ErrorCodes.ADMIN_BUSY, `the portal's admin endpoint at ${admin.host}:${admin.port} closed the connection without answering ${method} ${path}: it is probably busy (admin.maxConnections connections open); try again in a few seconds`)
          : new PortalError(ErrorCodes.NOT_RUNNING, `cannot reach the portal's admin endpoint at ${admin.host}:${admin.port}: ${err.message}`)));
    req.end();
  });
}
