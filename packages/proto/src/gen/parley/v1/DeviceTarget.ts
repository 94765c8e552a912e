// Original file: ../../proto/parley/v1/connector.proto


export interface DeviceTarget {
  'userId'?: (string);
  'deviceId'?: (string);
}

export interface DeviceTarget__Output {
  'userId': (string);
  'deviceId': (string);
}
