/**
 * A request sent to one server after another, as a client of several does it (a gateway's
 * failover intake, a client given a Redis URL): a wait or a cancel. A server that does not answer,
 * or does not know the job (another namespace), is followed by the next; any other refusal is the
 * answer. A cancel's `final` answer after a server that did not answer, for a job now cancelled,
 * is this cancel's own earlier attempt: answered `cancelled`.
 */
import { JobNotFoundError } from "../core/errors/job-not-found-error.ts";
import { MarioError } from "../core/errors/mario-error.ts";
import { NoAnswerError } from "../core/errors/no-answer-error.ts";
import type { CancelAnswer } from "./pipeline-client.ts";

export interface Canceller {
  cancel(jobId: string): Promise<CancelAnswer>;
}

/** The first answer of `ask`, and whether a server before it did not answer; NO_ANSWER (`noAnswer` its message) when none did. */
export async function askInTurn<C, R>(candidates: readonly { intake: C }[], ask: (intake: C) => Promise<R>, noAnswer: string): Promise<{ answer: R; afterUnanswered: boolean }> {
  let unanswered: unknown;
  let notFound: unknown;
  for (const candidate of candidates) {
    try {
      return { answer: await ask(candidate.intake), afterUnanswered: unanswered !== undefined };
    } catch (error) {
      if (error instanceof JobNotFoundError) notFound = error;
      else if (error instanceof MarioError && !(error instanceof NoAnswerError)) throw error;
      else unanswered = error;
    }
  }
  if (notFound !== undefined && unanswered === undefined) throw notFound;
  throw unanswered instanceof NoAnswerError ? unanswered : new NoAnswerError(noAnswer, { cause: unanswered });
}

export async function cancelThrough(candidates: readonly { intake: Canceller }[], jobId: string, where: string): Promise<CancelAnswer> {
  const { answer, afterUnanswered } = await askInTurn(candidates.slice(0, 16), (intake) => intake.cancel(jobId), `no pipeline server of ${where} answered a cancel of ${jobId}`);
  return afterUnanswered && answer.status === "final" && answer.job.status === "cancelled" ? { status: "cancelled", job: answer.job } : answer;
}
