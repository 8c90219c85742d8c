import * as fs from 'node:fs';

/** The last `lineCount` lines of a log file (reads at most the last 64 KiB); [] when absent. */
export function readLastLines(filePath: string, lineCount: number): string[] {
  let fd: number;
  try {
    fd = fs.openSync(filePath, 'r');
  } catch {
    return [];
  }
  try {
    const sizeBytes = fs.fstatSync(fd).size;
    const lengthBytes = Math.min(sizeBytes, 64 * 1024);
    const buffer = Buffer.alloc(lengthBytes);
    fs.readSync(fd, buffer, 0, lengthBytes, sizeBytes - lengthBytes);
    const lines = buffer.toString('utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    // The first line may be cut in the middle when the window starts mid-file.
    if (lengthBytes < sizeBytes) lines.shift();
    return lines.slice(-lineCount);
  } finally {
    fs.closeSync(fd);
  }
}
