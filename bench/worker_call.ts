/** Runs one request in a fresh module worker and returns its `{ok, result}` reply. */
export async function callWorker<T>(url: URL, request: unknown): Promise<T> {
  const worker = new Worker(url, { type: "module" });
  try {
    const reply = await new Promise<{ ok: boolean; result?: T; error?: string }>(
      (resolve, reject) => {
        worker.onmessage = (event) => resolve(event.data);
        worker.onerror = (event) => {
          event.preventDefault();
          reject(new Error(`${url.pathname} crashed: ${event.message}`));
        };
        worker.postMessage(request);
      },
    );
    if (!reply.ok || reply.result === undefined) {
      throw new Error(`${url.pathname} failed: ${reply.error}`);
    }
    return reply.result;
  } finally {
    worker.terminate();
  }
}
