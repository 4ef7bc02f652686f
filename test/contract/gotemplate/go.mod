module cdk-mlops-stack/test/contract/gotemplate

go 1.22
