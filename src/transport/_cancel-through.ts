/**
 * A cancel sent to one server after another, as a client of several does it (a gateway's
 * failover intake, a client given a Redis URL). A server that does not answer, or does not know
 * the job (another namespace), is followed by the next. A `final` answer after a server that did
 * not answer, for a job now cancelled, is this cancel's own earlier attempt: answered `cancelled`.
 */
import { JobNotFoundError } from "../core/errors/job-not-found-error.ts";
import { MarioError } from "../core/errors/mario-error.ts";
import { NoAnswerError } from "../core/errors/no-answer-error.ts";
import type { CancelAnswer } from "./pipeline-client.ts";

export interface Canceller {
  cancel(jobId: string): Promise<CancelAnswer>;
}

export async function cancelThrough(candidates: readonly { intake: Canceller }[], jobId: string, where: string): Promise<CancelAnswer> {
  let unanswered: unknown;
  let notFound: unknown;
  for (const candidate of candidates.slice(0, 16)) {
    try {
      const answer = await candidate.intake.cancel(jobId);
      if (answer.status === "final" && answer.job.status === "cancelled" && unanswered !== undefined) return { status: "cancelled", job: answer.job };
      return answer;
    } catch (error) {
      if (error instanceof JobNotFoundError) notFound = error;
      else if (error instanceof MarioError && !(error instanceof NoAnswerError)) throw error;
      else unanswered = error;
    }
  }
  if (notFound !== undefined && unanswered === undefined) throw notFound;
  throw unanswered instanceof NoAnswerError ? unanswered : new NoAnswerError(`no pipeline server of ${where} answered a cancel of ${jobId}`, { cause: unanswered });
}
