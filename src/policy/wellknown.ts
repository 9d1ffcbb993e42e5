// eksctl's well-known policies (iam.serviceAccounts[].wellKnownPolicies), as data.
// Source: eksctl-io/eksctl pkg/cfn/builder/iam_helper.go (createWellKnownPolicies) and pkg/cfn/builder/statement.go at 16d928869cdd08420794578c21f9b61845b9aa01. ebsCSIController follows eksctl PR #8422 (v0.211.0): the managed AmazonEBSCSIDriverPolicy replaced eksctl's inline ebsStatements(); each policy's statements are its eksctl custom policies' statements concatenated in eksctl's order.
import type { WellKnownPolicyName } from '../api/types.ts';

export interface WellKnownPolicy {
  /** AWS managed policies, by name after "policy/" (the partition and account are filled in later), e.g. 'AmazonEC2ContainerRegistryPowerUser' or 'service-role/AmazonEBSCSIDriverPolicy'. */
  managedPolicies: readonly string[];
  /** Inline statements. The placeholders ${Partition} and ${ClusterName} stand where eksctl uses the partition and the cluster name. */
  statements: readonly Record<string, unknown>[];
}

export const WELL_KNOWN_POLICIES: Readonly<Record<WellKnownPolicyName, WellKnownPolicy>> = {
  // managedPolicyForRole{name: iamPolicyAmazonEC2ContainerRegistryPowerUser}
  imageBuilder: {
    managedPolicies: ['AmazonEC2ContainerRegistryPowerUser'],
    statements: [],
  },

  // PolicyAutoScaling: autoScalerStatements()
  autoScaler: {
    managedPolicies: [],
    statements: [
      {
        Effect: 'Allow',
        Action: [
          'autoscaling:DescribeAutoScalingGroups',
          'autoscaling:DescribeAutoScalingInstances',
          'autoscaling:DescribeLaunchConfigurations',
          'autoscaling:DescribeScalingActivities',
          'autoscaling:DescribeTags',
          'ec2:DescribeInstanceTypes',
          'ec2:DescribeLaunchTemplateVersions',
        ],
        Resource: '*',
      },
      {
        Effect: 'Allow',
        Action: [
          'autoscaling:SetDesiredCapacity',
          'autoscaling:TerminateInstanceInAutoScalingGroup',
          'ec2:DescribeImages',
          'ec2:GetInstanceTypesFromInstanceRequirements',
          'eks:DescribeNodegroup',
        ],
        Resource: '*',
      },
    ],
  },

  // PolicyAWSLoadBalancerController: loadBalancerControllerStatements()
  awsLoadBalancerController: {
    managedPolicies: [],
    statements: [
      {
        Effect: 'Allow',
        Action: ['iam:CreateServiceLinkedRole'],
        Resource: '*',
        Condition: {
          StringEquals: {
            'iam:AWSServiceName': 'elasticloadbalancing.amazonaws.com',
          },
        },
      },
      {
        Effect: 'Allow',
        Action: [
          'ec2:DescribeAccountAttributes',
          'ec2:DescribeAddresses',
          'ec2:DescribeAvailabilityZones',
          'ec2:DescribeInternetGateways',
          'ec2:DescribeVpcs',
          'ec2:DescribeVpcPeeringConnections',
          'ec2:DescribeSubnets',
          'ec2:DescribeSecurityGroups',
          'ec2:DescribeInstances',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeTags',
          'ec2:GetCoipPoolUsage',
          'ec2:DescribeCoipPools',
          'elasticloadbalancing:DescribeLoadBalancers',
          'elasticloadbalancing:DescribeLoadBalancerAttributes',
          'elasticloadbalancing:DescribeListeners',
          'elasticloadbalancing:DescribeListenerCertificates',
          'elasticloadbalancing:DescribeSSLPolicies',
          'elasticloadbalancing:DescribeRules',
          'elasticloadbalancing:DescribeTargetGroups',
          'elasticloadbalancing:DescribeTargetGroupAttributes',
          'elasticloadbalancing:DescribeTargetHealth',
          'elasticloadbalancing:DescribeTags',
        ],
        Resource: '*',
      },
      {
        Effect: 'Allow',
        Action: [
          'cognito-idp:DescribeUserPoolClient',
          'acm:ListCertificates',
          'acm:DescribeCertificate',
          'iam:ListServerCertificates',
          'iam:GetServerCertificate',
          'waf-regional:GetWebACL',
          'waf-regional:GetWebACLForResource',
          'waf-regional:AssociateWebACL',
          'waf-regional:DisassociateWebACL',
          'wafv2:GetWebACL',
          'wafv2:GetWebACLForResource',
          'wafv2:AssociateWebACL',
          'wafv2:DisassociateWebACL',
          'shield:GetSubscriptionState',
          'shield:DescribeProtection',
          'shield:CreateProtection',
          'shield:DeleteProtection',
        ],
        Resource: '*',
      },
      {
        Effect: 'Allow',
        Action: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:RevokeSecurityGroupIngress'],
        Resource: '*',
      },
      {
        Effect: 'Allow',
        Action: ['ec2:CreateSecurityGroup'],
        Resource: '*',
      },
      {
        Effect: 'Allow',
        Action: ['ec2:CreateTags'],
        Resource: 'arn:${Partition}:ec2:*:*:security-group/*',
        Condition: {
          StringEquals: {
            'ec2:CreateAction': 'CreateSecurityGroup',
          },
          Null: {
            'aws:RequestTag/elbv2.k8s.aws/cluster': 'false',
          },
        },
      },
      {
        Effect: 'Allow',
        Action: ['ec2:CreateTags', 'ec2:DeleteTags'],
        Resource: 'arn:${Partition}:ec2:*:*:security-group/*',
        Condition: {
          Null: {
            'aws:RequestTag/elbv2.k8s.aws/cluster': 'true',
            'aws:ResourceTag/elbv2.k8s.aws/cluster': 'false',
          },
        },
      },
      {
        Effect: 'Allow',
        Action: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:RevokeSecurityGroupIngress', 'ec2:DeleteSecurityGroup'],
        Resource: '*',
        Condition: {
          Null: {
            'aws:ResourceTag/elbv2.k8s.aws/cluster': 'false',
          },
        },
      },
      {
        Effect: 'Allow',
        Action: ['elasticloadbalancing:CreateLoadBalancer', 'elasticloadbalancing:CreateTargetGroup'],
        Resource: '*',
        Condition: {
          Null: {
            'aws:RequestTag/elbv2.k8s.aws/cluster': 'false',
          },
        },
      },
      {
        Effect: 'Allow',
        Action: [
          'elasticloadbalancing:CreateListener',
          'elasticloadbalancing:DeleteListener',
          'elasticloadbalancing:CreateRule',
          'elasticloadbalancing:DeleteRule',
        ],
        Resource: '*',
      },
      {
        Effect: 'Allow',
        Action: ['elasticloadbalancing:AddTags', 'elasticloadbalancing:RemoveTags'],
        Resource: [
          'arn:${Partition}:elasticloadbalancing:*:*:targetgroup/*/*',
          'arn:${Partition}:elasticloadbalancing:*:*:loadbalancer/net/*/*',
          'arn:${Partition}:elasticloadbalancing:*:*:loadbalancer/app/*/*',
        ],
        Condition: {
          Null: {
            'aws:RequestTag/elbv2.k8s.aws/cluster': 'true',
            'aws:ResourceTag/elbv2.k8s.aws/cluster': 'false',
          },
        },
      },
      {
        Effect: 'Allow',
        Action: ['elasticloadbalancing:AddTags', 'elasticloadbalancing:RemoveTags'],
        Resource: [
          'arn:${Partition}:elasticloadbalancing:*:*:listener/net/*/*/*',
          'arn:${Partition}:elasticloadbalancing:*:*:listener/app/*/*/*',
          'arn:${Partition}:elasticloadbalancing:*:*:listener-rule/net/*/*/*',
          'arn:${Partition}:elasticloadbalancing:*:*:listener-rule/app/*/*/*',
        ],
      },
      {
        Effect: 'Allow',
        Action: [
          'elasticloadbalancing:ModifyLoadBalancerAttributes',
          'elasticloadbalancing:SetIpAddressType',
          'elasticloadbalancing:SetSecurityGroups',
          'elasticloadbalancing:SetSubnets',
          'elasticloadbalancing:DeleteLoadBalancer',
          'elasticloadbalancing:ModifyTargetGroup',
          'elasticloadbalancing:ModifyTargetGroupAttributes',
          'elasticloadbalancing:DeleteTargetGroup',
        ],
        Resource: '*',
        Condition: {
          Null: {
            'aws:ResourceTag/elbv2.k8s.aws/cluster': 'false',
          },
        },
      },
      {
        Effect: 'Allow',
        Action: ['elasticloadbalancing:AddTags'],
        Resource: [
          'arn:${Partition}:elasticloadbalancing:*:*:targetgroup/*/*',
          'arn:${Partition}:elasticloadbalancing:*:*:loadbalancer/net/*/*',
          'arn:${Partition}:elasticloadbalancing:*:*:loadbalancer/app/*/*',
        ],
        Condition: {
          StringEquals: {
            'elasticloadbalancing:CreateAction': ['CreateTargetGroup', 'CreateLoadBalancer'],
          },
          Null: {
            'aws:RequestTag/elbv2.k8s.aws/cluster': 'false',
          },
        },
      },
      {
        Effect: 'Allow',
        Action: ['elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'],
        Resource: 'arn:${Partition}:elasticloadbalancing:*:*:targetgroup/*/*',
      },
      {
        Effect: 'Allow',
        Action: [
          'elasticloadbalancing:SetWebAcl',
          'elasticloadbalancing:ModifyListener',
          'elasticloadbalancing:AddListenerCertificates',
          'elasticloadbalancing:RemoveListenerCertificates',
          'elasticloadbalancing:ModifyRule',
        ],
        Resource: '*',
      },
    ],
  },

  // PolicyExternalDNSChangeSet: changeSetStatements()
  // PolicyExternalDNSHostedZones: externalDNSHostedZonesStatements()
  externalDNS: {
    managedPolicies: [],
    statements: [
      {
        Effect: 'Allow',
        Action: ['route53:ChangeResourceRecordSets'],
        Resource: 'arn:${Partition}:route53:::hostedzone/*',
      },
      {
        Effect: 'Allow',
        Action: ['route53:ListHostedZones', 'route53:ListResourceRecordSets', 'route53:ListTagsForResource'],
        Resource: '*',
      },
    ],
  },

  // PolicyCertManagerChangeSet: changeSetStatements()
  // PolicyCertManagerGetChange: certManagerGetChangeStatements()
  // PolicyCertManagerHostedZones: certManagerHostedZonesStatements()
  certManager: {
    managedPolicies: [],
    statements: [
      {
        Effect: 'Allow',
        Action: ['route53:ChangeResourceRecordSets'],
        Resource: 'arn:${Partition}:route53:::hostedzone/*',
      },
      {
        Effect: 'Allow',
        Action: ['route53:GetChange'],
        Resource: 'arn:${Partition}:route53:::change/*',
      },
      {
        Effect: 'Allow',
        Action: ['route53:ListResourceRecordSets', 'route53:ListHostedZonesByName'],
        Resource: '*',
      },
    ],
  },

  // eksctl >= 0.211.0 (PR #8422): AWS managed AmazonEBSCSIDriverPolicy, no inline statements.
  ebsCSIController: {
    managedPolicies: ['service-role/AmazonEBSCSIDriverPolicy'],
    statements: [],
  },

  // PolicyEFSCSIController: efsCSIControllerStatements()
  efsCSIController: {
    managedPolicies: [],
    statements: [
      {
        Effect: 'Allow',
        Action: ['elasticfilesystem:DescribeAccessPoints', 'elasticfilesystem:DescribeFileSystems'],
        Resource: '*',
      },
      {
        Effect: 'Allow',
        Action: ['elasticfilesystem:CreateAccessPoint'],
        Resource: '*',
        Condition: {
          StringLike: {
            'aws:RequestTag/efs.csi.aws.com/cluster': 'true',
          },
        },
      },
      {
        Effect: 'Allow',
        Action: ['elasticfilesystem:TagResource'],
        Resource: '*',
        Condition: {
          StringLike: {
            'aws:RequestTag/efs.csi.aws.com/cluster': 'true',
          },
        },
      },
      {
        Effect: 'Allow',
        Action: ['elasticfilesystem:DeleteAccessPoint'],
        Resource: '*',
        Condition: {
          StringLike: {
            'aws:ResourceTag/efs.csi.aws.com/cluster': 'true',
          },
        },
      },
    ],
  },
};
