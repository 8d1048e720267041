/**
 * Matrix sizes the matmul kind accepts, in one place: the researcher's form, the kind's spec
 * check and the shard codec read them from here.
 */

/** Largest matrix side of a matmul shard (a lease's work and its result), and of a job the
 * researcher's form submits. */
export const MAX_DIM = 16_384;

/** Largest matrix side of a matmul job spec (a stored or scripted job): its shards are cut to
 * MAX_DIM or less. */
export const MAX_JOB_DIM = 65_536;
