package org.retroinfer.serve;

/**
 * A completion request as the server runs it.
 *
 * @param includeUsage whether a streamed response ends with a usage chunk ({@code stream_options.include_usage})
 */
record ParsedRequest(SequenceRequest sequence, boolean stream, boolean includeUsage) {}
