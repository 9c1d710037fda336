/**
 * A throwaway self-signed certificate for loopback HTTPS tests, made with
 * `openssl`; undefined when openssl is missing (tests then skip).
 *
 * @module
 */

/** PEM certificate and key for `names` (DNS names or IPv4 addresses as subject alternative names). */
export async function selfSignedCert(
  names: string[],
): Promise<{ cert: string; key: string } | undefined> {
  const dir = await Deno.makeTempDir();
  try {
    const { success } = await new Deno.Command("openssl", {
      args: [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "2",
        "-subj",
        `/CN=${names[0]}`,
        "-addext",
        `subjectAltName=${
          names.map((n) => (/^\d+\.\d+\.\d+\.\d+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(",")
        }`,
        "-addext",
        "basicConstraints=critical,CA:FALSE",
        "-keyout",
        `${dir}/key.pem`,
        "-out",
        `${dir}/cert.pem`,
      ],
      stdout: "null",
      stderr: "null",
    }).output();
    if (!success) return undefined;
    return {
      cert: await Deno.readTextFile(`${dir}/cert.pem`),
      key: await Deno.readTextFile(`${dir}/key.pem`),
    };
  } catch {
    // No openssl on this machine.
    return undefined;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
