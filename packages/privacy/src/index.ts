export { subjectHash, subjectOf, parseSubject, describeSubject, SubjectError, type Subject, type Sender } from './subjects';
export { ForgottenSet } from './tombstones';
export { skippingForgotten } from './skip';
export { forget, sweep, type ForgetStores, type ForgetOptions, type ForgetReport, type Removed } from './forget';
