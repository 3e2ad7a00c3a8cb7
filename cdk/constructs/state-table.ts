/**
 * An on-demand DynamoDB table with point-in-time recovery, optional TTL and
 * optional stream.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { type Attribute, AttributeType, BillingMode, StreamViewType, Table } from 'aws-cdk-lib/aws-dynamodb';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { KeyType, StreamViewType as DeclaredStreamViewType, TableAccess } from '../../lib/app/declaration.js';

/** A key attribute as declared: its name and DynamoDB type. */
export interface StateTableKey {
  readonly name: string;
  /** @default 'S' */
  readonly type?: KeyType;
}

export interface StateTableProps {
  /** The partition key. */
  readonly partitionKey: StateTableKey;
  /** @default no sort key */
  readonly sortKey?: StateTableKey;
  /**
   * Attribute holding an epoch-seconds expiry, after which DynamoDB deletes the item.
   * @default no TTL
   */
  readonly timeToLiveAttribute?: string;
  /**
   * What the table's stream carries for each change.
   * @default no stream
   */
  readonly stream?: DeclaredStreamViewType;
  /**
   * What happens to the table (and its data) when it leaves the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

const ATTRIBUTE_TYPES: Readonly<Record<KeyType, AttributeType>> = {
  S: AttributeType.STRING,
  N: AttributeType.NUMBER,
  B: AttributeType.BINARY,
};

const STREAM_VIEW_TYPES: Readonly<Record<DeclaredStreamViewType, StreamViewType>> = {
  NEW_IMAGE: StreamViewType.NEW_IMAGE,
  OLD_IMAGE: StreamViewType.OLD_IMAGE,
  NEW_AND_OLD_IMAGES: StreamViewType.NEW_AND_OLD_IMAGES,
  KEYS_ONLY: StreamViewType.KEYS_ONLY,
};

function attribute(key: StateTableKey): Attribute {
  return { name: key.name, type: ATTRIBUTE_TYPES[key.type ?? 'S'] };
}

export class StateTable extends Construct {
  /** The table. */
  readonly table: Table;

  constructor(scope: Construct, id: string, props: StateTableProps) {
    super(scope, id);
    this.table = new Table(this, 'Table', {
      partitionKey: attribute(props.partitionKey),
      ...(props.sortKey && { sortKey: attribute(props.sortKey) }),
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      ...(props.timeToLiveAttribute !== undefined && { timeToLiveAttribute: props.timeToLiveAttribute }),
      ...(props.stream !== undefined && { stream: STREAM_VIEW_TYPES[props.stream] }),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }

  /** Grants `grantee` the declared `access` to the table's data. */
  grant(grantee: IGrantable, access: TableAccess): void {
    switch (access) {
      case 'read':
        this.table.grantReadData(grantee);
        break;
      case 'write':
        this.table.grantWriteData(grantee);
        break;
      case 'readWrite':
        this.table.grantReadWriteData(grantee);
        break;
    }
  }
}
