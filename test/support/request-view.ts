import { requestStatus, type AccessRequest, type Grant, type RequestStatus } from '../../src/domain/access-request';

/**
 * A request read the way the single-grant suites look at it: the request, its first grant's
 * fields (window, failure, approvals) and its derived status. For requests of one grant, which
 * is what those suites file, this is exactly the grant; multi-grant suites read `grants`.
 */
export type RequestView = AccessRequest & Omit<Grant, 'id' | 'status'> & { status: RequestStatus };

export function viewOf(request: AccessRequest): RequestView {
  const first = request.grants[0] as Grant;
  return { ...first, ...request, status: requestStatus(request) };
}
