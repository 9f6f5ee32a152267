// A file message: in an encrypted room the bytes are encrypted before upload
// and the key travels inside the (encrypted) event as `file`; elsewhere a plain
// upload with `url`, as before.
import type { E2ee } from './setup';

export interface FileToSend { name: string; mimetype: string; bytes: Buffer }

export async function fileMessage(
  e2ee: E2ee | null, roomId: string, f: FileToSend, upload: (data: Buffer, contentType: string) => Promise<string>,
): Promise<Record<string, unknown>> {
  const base = { msgtype: 'm.file', body: f.name, filename: f.name, info: { mimetype: f.mimetype, size: f.bytes.length } };
  if (e2ee && await e2ee.isEncrypted(roomId)) {
    const { buffer, file } = await e2ee.encryptFile(f.bytes);
    const url = await upload(buffer, 'application/octet-stream');
    return { ...base, file: { ...file, url } };
  }
  return { ...base, url: await upload(f.bytes, f.mimetype) };
}
