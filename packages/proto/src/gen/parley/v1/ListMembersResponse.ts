// Original file: ../../proto/parley/v1/storage.proto


export interface ListMembersResponse {
  'userIds'?: (string)[];
}

export interface ListMembersResponse__Output {
  'userIds': (string)[];
}
