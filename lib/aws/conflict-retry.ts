/**
 * A single-item write (PutItem, UpdateItem, DeleteItem) that meets an item an
 * ongoing transaction holds fails with TransactionConflictException, which the
 * SDK does not retry. Nothing was applied, so it is safe to send again: this
 * middleware does, with jittered backoff, a few times before the error goes
 * up. (Transactions cancelled by a conflict are sent again by `transactWrite`.)
 */
import type { FinalizeHandler, FinalizeHandlerArguments, MetadataBearer, Pluggable } from '@smithy/types';
import { sleep } from '../util/sleep.js';

/** Sends of one call after its first, before the conflict goes up. */
export const CONFLICT_RETRIES = 6;

const SINGLE_ITEM_WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand']);

export const conflictRetry: Pluggable<object, MetadataBearer> = {
  applyToStack(stack) {
    stack.add(
      (next: FinalizeHandler<object, MetadataBearer>, context) => async (args: FinalizeHandlerArguments<object>) => {
        if (!SINGLE_ITEM_WRITES.has(String(context.commandName))) return next(args);
        for (let attempt = 0; ; attempt++) {
          try {
            return await next(args);
          } catch (error) {
            if ((error as { name?: string }).name !== 'TransactionConflictException' || attempt >= CONFLICT_RETRIES) throw error;
            await sleep(Math.random() * 20 * 2 ** attempt);
          }
        }
      },
      // Around the SDK's own retries, which leave this error alone.
      { step: 'finalizeRequest', priority: 'high', name: 'ferryConflictRetry', override: true },
    );
  },
};
