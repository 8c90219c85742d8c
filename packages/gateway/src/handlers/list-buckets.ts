/**
 * ListBuckets: every bucket, sorted by name, with the owner.
 */
import { callBackend, sendXml } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { listAllMyBucketsXml } from '../xml-responses';

export async function handleListBuckets(ctx: HandlerContext): Promise<void> {
  const buckets = await callBackend({}, () => ctx.backend.listBuckets());
  const sorted = [...buckets].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  sendXml(ctx, 200, listAllMyBucketsXml(ctx.options.owner, sorted));
}
