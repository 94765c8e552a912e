import { grpcTarget } from './grpc';

describe('grpcTarget', () => {
  it('passes single addresses and explicit schemes through, and turns a list into an ipv4/ipv6 target', () => {
    expect(grpcTarget('storage:7002')).toBe('storage:7002');
    expect(grpcTarget('dns:///storage-headless:7002')).toBe('dns:///storage-headless:7002');
    expect(grpcTarget(' 127.0.0.1:7001, 127.0.0.2:7001 ')).toBe('ipv4:127.0.0.1:7001,127.0.0.2:7001');
    expect(grpcTarget('[::1]:7001,[::1]:7002')).toBe('ipv6:[::1]:7001,[::1]:7002');
    expect(grpcTarget('ipv4:127.0.0.1:1,127.0.0.1:2')).toBe('ipv4:127.0.0.1:1,127.0.0.1:2');
  });
});
